/**
 * One Deno node of a self-hosted cluster: every replica placed on it in one event loop, all of
 * them in one SQLite database synced once per turn (node-storage.ts), one ticker for all of them,
 * one transport to the other nodes, and the public v1 API
 * (the same Hono app as the Worker) over a cluster client whose directory reaches replicas here
 * in-process and elsewhere over the transport. Any node accepts any request.
 */
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Hono } from "hono";
import { createApp } from "../../router/app.ts";
import { ClusterClient } from "../../router/cluster-client/cluster-client.ts";
import { Balancer } from "../../router/cluster-client/balancer.ts";
import { SweptDeadlines } from "../../router/cluster-client/replica-caller.ts";
import { metaGroup } from "../../router/cluster-client/directory.ts";
import type { GroupLoad } from "../../multiraft/balance.ts";
import { statsOfLocalReplicas } from "../../router/metrics/replica-stats.ts";
import type { MessageBatch } from "../../multiraft/wire.ts";
import type { Message } from "../../raft/types.ts";
import { noFaults, type BootstrapRequest, type ReplicaFaults } from "../../multiraft/protocol.ts";
import { logEvent } from "../../router/log.ts";
import { defaultTiming, type ReplicaTiming } from "../common/replica-runtime.ts";
import { answerReplicaRequest, type ReplicaAnswer, type ReplicaEndpoint } from "../common/replica-requests.ts";
import { ReplicaFaultControl } from "../common/replica-fault-control.ts";
import { NodeDirectory } from "./node-directory.ts";
import { NodeSweeps } from "./node-sweeps.ts";
import { NodeReplica } from "./node-replica.ts";
import { NodeStorage } from "./node-storage.ts";
import { cpuUsage, memoryUsage } from "node:process";
import { defaultSyncDelay, type ClusterNodeOptions } from "./arguments.ts";
export type { ClusterNodeOptions } from "./arguments.ts";
import { NodeTransport, peerPath, type NodeAddress } from "./node-transport.ts";
import { peerProtocol, secretMatches } from "./peer-handshake.ts";
import { checkNodeIdentity, DataDirectoryRefused } from "./node-identity.ts";
import { nodeOfReplica, preferredLeaderOf, replicaIdOnFreeNode, replicasMaxOf } from "./placement.ts";
import { NodeTimings, type NodeStage } from "./node-timings.ts";
import { ReplicaAdoption } from "./replica-adoption.ts";

/** How late, at most, the router fails a call to a replica past its deadline (one sweep for all calls: replica-caller.ts SweptDeadlines). */
const callDeadlineSweepMs = 250;
/** How often a node looks for groups it leads that should be led by their preferred leader (replica 1, or its successor: balance), in milliseconds. */
const leaderBalanceMs = 3_000;
/**
 * How long a replica that won an election leads before its node hands leadership back to replica
 * 1, in milliseconds: spread is no emergency, and an operator's transfer asked for soon after an
 * election (a failover, possibly contested) must not race the handback.
 */
const handBackAfterMs = 5_000;

/** Where data group leaders send their load reports: a replica route of the metadata group (as on Durable Objects). */
const loadReportPath = "/internal/report";
/** The replica routes of fault injection (FAULTS=on only). */
const faultPaths = new Set(["/internal/faults", "/internal/crash"]);

/** Node statistics (replicas, leaders, transport counters, memory), for operators holding the cluster secret. */
export const nodeStatsPath = "/internal/node";

/** Replica requests whose answers reveal only the state machine (and refusals), nothing else written by the request. */
const stateMachinePaths = new Set(["/internal/write", "/internal/get", "/internal/scan"]);

/** A replica that does not exist here (never bootstrapped): answers "uninitialized". */
const absentReplica: ReplicaEndpoint = {
  identity: undefined,
  runtime: undefined,
  bootstrap: () => false,
  retire: () => {},
  schedule: () => {},
  traffic: () => undefined,
};

/** A node process's replicas, transport and HTTP front door. */
export class ClusterNode {
  readonly id: number;
  readonly transport: NodeTransport;
  readonly app: Hono;
  /** Where requests spent their time (reported by /internal/node). */
  readonly timings = new NodeTimings();
  private readonly options: ClusterNodeOptions;
  private readonly nodeIds: number[];
  private readonly storage: NodeStorage;
  /** Writes being served here: client requests other than GET, and writes forwarded to a replica here. */
  private requestsInFlight = 0;
  private readonly replicas = new Map<string, NodeReplica>();
  /** Replicas that have a next tick; the ticker only looks at these (idle groups cost nothing). */
  private readonly awake = new Set<NodeReplica>();
  private readonly timing: Partial<ReplicaTiming>;
  private ticker: ReturnType<typeof setInterval> | undefined;
  /** Runs of the ticker since start (ticks per second, for the heartbeat traffic measurement). */
  private tickRuns = 0;
  private balancer: ReturnType<typeof setInterval> | undefined;
  private readonly sweeps: NodeSweeps;
  private readonly adoption = new ReplicaAdoption({ call: (...args) => this.call(...args), replicaHere: (group, replica) => this.replicas.get(keyOf(group, replica)), replicaAt: (group, replica) => this.replicas.get(keyOf(group, replica)) ?? this.create(group, replica) });
  private readonly cluster: ClusterClient;
  /** The metadata group's balancer (automatic splits and merges), made when a replica here leads the metadata group and a report arrives. */
  private splitBalancer: Balancer | undefined;
  /** When each replica that leads here was first seen leading its current term (see handBackAfterMs). */
  private readonly leadingSince = new WeakMap<NodeReplica, { term: number; sinceMs: number }>();

  constructor(options: ClusterNodeOptions) {
    this.options = options;
    this.id = options.id;
    // One engine tick per timer run (etcd's rule, see ReplicaTiming.ticksPerCallMax); lease reads
    // stay off on Deno, as on Durable Objects.
    this.timing = { ticksPerCallMax: 1, ...options.timing, leaseReads: false };
    this.nodeIds = options.nodes.map((node) => node.id);
    mkdirSync(options.dataDirectory, { recursive: true });
    const oldLayout = join(options.dataDirectory, "replicas");
    if (existsSync(oldLayout) && readdirSync(oldLayout).some((file) => file.endsWith(".sqlite"))) {
      throw new DataDirectoryRefused(`${oldLayout} holds one SQLite file per replica, a layout this version does not read (it keeps one node.sqlite); start from an empty data directory`);
    }
    const syncDelay = options.syncDelay ?? defaultSyncDelay;
    const timed = (stage: NodeStage, startedMs: number) => this.timings.record(stage, startedMs);
    this.storage = new NodeStorage(join(options.dataDirectory, "node.sqlite"), {
      timed,
      syncSpacingMs: () => (this.requestsInFlight >= syncDelay.siblings ? syncDelay.ms : 0),
      // Fail-stop, as etcd panics on a WAL error: nothing that waited for this sync was released.
      failed: (error) => {
        throw new Error(`edgeraft node: the node's storage failed (a WAL sync, or a transaction SQLite ended itself); stopping: ${String(error)}`);
      },
    });
    checkNodeIdentity(this.storage, options.dataDirectory, { node: options.id, nodes: this.nodeIds });
    this.transport = new NodeTransport({
      self: options.id,
      peers: options.nodes.filter((node) => node.id !== options.id),
      secret: options.clusterSecret,
      ...(options.tls === undefined ? {} : { tls: true }),
      onBatches: (_from, batches) => this.deliver(batches),
      onConnected: (peer) => this.adoption.peerConnected(peer, this.replicas.values(), this.nodeOf),
      timed,
      onRequest: (request) => {
        const answer = this.answer(request.group, request.replica, request.path, request.body);
        return request.path === "/internal/write" ? this.inFlight(answer) : answer;
      },
    });
    const cluster = new ClusterClient({ directory: new NodeDirectory(this), locations: ["deno"], deadlines: new SweptDeadlines(callDeadlineSweepMs), placement: { replicasMax: replicasMaxOf(this.nodeIds), replicaId: (replica) => replicaIdOnFreeNode(replica, this.nodeIds, (node) => node === this.id || this.transport.connected(node)) } });
    this.cluster = cluster;
    this.sweeps = new NodeSweeps(cluster);
    const faults = options.faults === true ? { faults: new ReplicaFaultControl(cluster) } : {};
    this.app = createApp({ cluster, adminToken: options.adminToken, replicaStats: statsOfLocalReplicas(() => this.replicas.values()), ...faults });
    for (const { scope } of this.storage.identities()) this.open(scope);
  }

  /** Connects to the peers and starts the ticker. */
  start(): void {
    this.transport.start();
    const tickMs = this.timing.tickMs ?? defaultTiming.tickMs;
    this.ticker = setInterval(() => this.tick(), tickMs);
    this.balancer = setInterval(() => this.balanceLeaders(), leaderBalanceMs);
  }

  /** Stops ticking and connecting, stops every replica and closes the database. */
  stop(): void {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    if (this.balancer !== undefined) clearInterval(this.balancer);
    this.transport.stop();
    for (const replica of this.replicas.values()) replica.close();
    this.replicas.clear();
    this.storage.close();
  }

  /** The HTTP handler: peer connections on peerPath, node statistics for holders of the secret, the public API otherwise. */
  fetch(request: Request): Response | Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === peerPath) return this.transport.accept(request);
    if (path === nodeStatsPath) {
      if (!secretMatches(request.headers.get("authorization"), this.options.clusterSecret)) return new Response("the cluster secret is required", { status: 401 });
      const { transport, timings } = this;
      return Response.json({ node: this.id, peerProtocol, ...this.summary(), transport: transport.counters, timings: timings.stages, rssBytes: memoryUsage().rss, cpuMicroseconds: cpuUsage() });
    }
    const answer = Promise.resolve(this.app.fetch(request));
    return this.timings.time("httpRequest", request.method === "GET" || request.method === "HEAD" ? answer : this.inFlight(answer));
  }

  /** Counts `work` among the writes in flight (a client's non-GET request, or a write forwarded to a replica here) until it settles: what decides the group-commit delay. */
  private inFlight<T>(work: Promise<T>): Promise<T> {
    this.requestsInFlight++;
    return work.finally(() => this.requestsInFlight--);
  }

  /** Calls a replica wherever it lives (the directory's dispatcher). */
  call(group: string, replica: number, path: string, body: unknown): Promise<ReplicaAnswer> {
    const node = nodeOfReplica(group, replica, this.nodeIds);
    if (node === this.id) return this.answer(group, replica, path, body);
    return this.timings.time("forward", this.transport.request(node, { group, replica, path, body }));
  }

  /** The node that holds replica `replica` of `group` (placement.ts; the directory's dispatcher, and group health). */
  readonly nodeOf = (group: string, replica: number): number => nodeOfReplica(group, replica, this.nodeIds);

  /** Replicas hosted here and how many of them lead their group. */
  summary(): { replicas: number; leading: number; recovering: number; awake: number; walSyncs: number; transactions: number; turns: number; tickRuns: number } {
    let leading = 0;
    let recovering = 0; // adopted empty and not caught up yet (replica-adoption.ts)
    for (const replica of this.replicas.values()) {
      if (replica.runtime?.node.brief().role === "leader") leading++;
      if (replica.identity?.recovering === true) recovering++;
    }
    const { syncs, passes, turns } = this.storage.counters;
    return { replicas: this.replicas.size, leading, recovering, awake: this.awake.size, walSyncs: syncs, transactions: passes, turns, tickRuns: this.tickRuns };
  }

  /**
   * Answers a replica request once everything written so far is synced: an answer may reveal a
   * write of the open turn (a one-voter group commits in the pass itself), so it waits, as
   * Durable Objects' output gates hold responses until storage is durable. A read or write,
   * whose answer shows only the state machine, skips the wait when all the entries that state
   * reflects are synced here (committed entries of a multi-voter group are: see
   * NodeReplica.receive), so a leader under load does not hold its answers for the next batch's sync.
   */
  private async answer(group: string, replica: number, path: string, body: unknown): Promise<ReplicaAnswer> {
    const answer = await this.timings.time("replicaWork", this.answerNow(group, replica, path, body));
    if (stateMachinePaths.has(path) && this.replicas.get(keyOf(group, replica))?.reflectsOnlyDurable() === true) return answer;
    await this.timings.time("answerSyncWait", this.storage.whenSynced());
    return answer;
  }

  private answerNow(group: string, replica: number, path: string, body: unknown): Promise<ReplicaAnswer> {
    if (nodeOfReplica(group, replica, this.nodeIds) !== this.id) return Promise.resolve({ status: 409, body: { kind: "wrongReplica" } });
    const existing = this.replicas.get(keyOf(group, replica));
    if (this.options.faults === true && existing !== undefined && faultPaths.has(path)) return Promise.resolve(this.injectFault(existing, path, body));
    if (path === loadReportPath && group === metaGroup.name) return Promise.resolve(this.balanceReport(existing, body));
    if (existing !== undefined) {
      // A group in use is the moment to hand leadership back to its preferred leader (balance).
      return answerReplicaRequest(existing, path, body).finally(() => this.balance(existing));
    }
    if (path !== "/internal/bootstrap") return answerReplicaRequest(absentReplica, path, body);
    // No rows here: founded as asked, unless the group went past its bootstrap (replica-adoption.ts).
    return this.adoption.bootstrap({ ...(body as BootstrapRequest), group, replica }, (request) => answerReplicaRequest(this.replicas.get(keyOf(group, replica)) ?? this.create(group, replica), path, request));
  }

  /**
   * A data group leader's load report, at a replica of the metadata group: its leader hands it to
   * the balancer, which decides and runs automatic splits and merges in the background, one at a
   * time, through the same sagas as the admin API (as the metadata Durable Object does).
   */
  private balanceReport(replica: NodeReplica | undefined, body: unknown): ReplicaAnswer {
    const brief = replica?.runtime?.node.brief();
    if (brief === undefined) return { status: 503, body: { kind: "uninitialized" } };
    if (brief.role !== "leader") {
      this.splitBalancer = undefined; // its reports may be stale when this node leads again
      return { status: 200, body: { kind: "notLeader", leader: brief.leader } };
    }
    const load = body as Partial<GroupLoad> | undefined;
    const wellFormed = typeof load?.group === "string" && typeof load.keys === "number" && typeof load.bytes === "number" && typeof load.writesPerSecond === "number" && typeof load.quiet === "boolean" && (load.epoch === undefined || typeof load.epoch === "number");
    if (!wellFormed || this.options.balance === undefined) return { status: 400, body: { kind: "badRequest" } };
    this.splitBalancer ??= new Balancer(this.cluster, this.options.balance.thresholds);
    this.splitBalancer.consider(load as GroupLoad).then(
      (outcome) => outcome.kind !== "none" && outcome.kind !== "busy" && logEvent("info", "balance", { ...outcome, group: load!.group, load }),
      (error: unknown) => logEvent("warn", "balanceFailed", { group: load!.group, error: String(error), load }),
    );
    return { status: 200, body: { kind: "ok" } };
  }

  /**
   * The replica routes of fault injection (ReplicaFaultControl, FAULTS=on): `/internal/faults` sets
   * the replica's transport faults (they add up; heal sends all zeros), `/internal/crash` drops its
   * memory and opens it again from its rows, as a crashed process would (waiting requests fail).
   */
  private injectFault(replica: NodeReplica, path: string, body: unknown): ReplicaAnswer {
    const identity = replica.identity;
    logEvent("info", "faultInjected", { kind: path === "/internal/crash" ? "crash" : "faults", group: identity?.group, replica: identity?.replica, ...(typeof body === "object" && body !== null ? body : {}) });
    if (path === "/internal/crash") this.reopen(replica);
    else replica.faults = { ...replica.faults, ...(body as Partial<ReplicaFaults>) };
    return { status: 200, body: { ok: true } };
  }

  /** Steps batches from a peer node; a replica placed here without rows (or left without an identity by a failed pass) is adopted first (replica-adoption.ts), its batches dropped meanwhile. */
  private deliver(batches: MessageBatch[]): void {
    for (const batch of batches) {
      const replica = this.replicas.get(keyOf(batch.group, batch.to));
      if (replica?.identity === undefined && nodeOfReplica(batch.group, batch.to, this.nodeIds) === this.id) this.adoption.request(batch.group, batch.to, batch.from);
      if (replica === undefined || replica.faults.isolated) continue; // an isolated replica hears nothing
      try {
        replica.receive(batch.messages);
      } catch {
        // The pass was rolled back and the replica is being reopened; other groups go on.
      }
    }
  }

  private send(group: string, from: number, to: number, messages: Message[]): void {
    const faults = this.options.faults === true ? this.replicas.get(keyOf(group, from))?.faults : undefined;
    if (faults !== undefined && !sameFaults(faults, noFaults)) {
      // Injected faults of the sending replica, as a Durable Object's transport applies them.
      if (faults.isolated) return;
      const kept = faults.dropFraction > 0 ? messages.filter(() => Math.random() >= faults.dropFraction) : messages;
      if (kept.length === 0) return;
      if (faults.delayFraction > 0 && Math.random() < faults.delayFraction) {
        setTimeout(() => this.sendNow(group, from, to, kept), faults.delayMs);
        return;
      }
      messages = kept;
    }
    this.sendNow(group, from, to, messages);
  }

  private sendNow(group: string, from: number, to: number, messages: Message[]): void {
    const node = nodeOfReplica(group, to, this.nodeIds);
    const batch = { group, from, to, messages };
    // Two replicas of one group on this node: deliver on a later turn, never inside the sender's pass.
    if (node === this.id) queueMicrotask(() => this.deliver([batch]));
    else this.transport.send(node, batch);
  }

  private tick(): void {
    this.tickRuns++;
    const now = Date.now();
    for (const replica of this.awake) {
      try {
        replica.tick(now);
      } catch {
        continue; // rolled back; the replica is being reopened
      }
      if (replica.nextDueAtMs() === null) this.awake.delete(replica);
    }
    this.sweeps.tick();
  }

  /**
   * Hands leadership back to the preferred leader of each active group led here by another replica (see
   * balance). Quiet groups are left alone, so idle groups stay idle; they rebalance when next used.
   */
  private balanceLeaders(): void {
    for (const replica of this.replicas.values()) {
      if (replica.runtime?.node.brief().quiesced === false) this.balance(replica);
    }
  }

  /**
   * When this replica has led its group for handBackAfterMs after an election (not a transfer) but is not its preferred leader (replica 1, its
   * successor, or a voter the group's name picks: placement.ts preferredLeaderOf), transfers leadership to that one if it is recently active and has every committed entry
   * (the engine catches it up the rest of the way before it hands over). Placement spreads the replicas 1 evenly over the nodes,
   * so this restores the spread of leaders after a failover: a restarted node leads its share again.
   */
  private balance(replica: NodeReplica): void {
    const runtime = replica.runtime;
    if (runtime === undefined || replica.identity === undefined || replica.identity.replica === 1) return; // replica 1 is preferred while it is a voter, and a leader is one
    if (runtime.node.brief().role !== "leader") return;
    const status = runtime.node.status(); // the engine's alone: runtime.status() adds a metrics report, and this runs after every request here
    const preferredLeader = preferredLeaderOf(replica.identity.group, status.conf.voters, this.nodeIds);
    if (preferredLeader === undefined || preferredLeader === replica.identity.replica) return;
    // A leader someone transferred the role to on purpose (POST .../transfer-leader) keeps it:
    // only leaders that won an election after a failover are handed back.
    if (status.leadsByTransfer) return;
    const noted = this.leadingSince.get(replica);
    const now = Date.now();
    if (noted === undefined || noted.term !== status.term) return void this.leadingSince.set(replica, { term: status.term, sinceMs: now });
    if (now - noted.sinceMs < handBackAfterMs) return;
    const progress = status.progress[preferredLeader];
    if (status.leadTransferee !== 0 || progress === undefined || !progress.recentActive || progress.match < status.commit) return;
    runtime.transferLeader(preferredLeader);
    replica.schedule();
  }

  private create(group: string, replica: number): NodeReplica {
    const created = this.replicaAt(keyOf(group, replica));
    this.replicas.set(keyOf(group, replica), created);
    return created;
  }

  private open(scope: string): void {
    const replica = this.replicaAt(scope);
    if (replica.identity === undefined) return replica.close();
    this.replicas.set(keyOf(replica.identity.group, replica.identity.replica), replica);
  }

  private replicaAt(scope: string): NodeReplica {
    return new NodeReplica({
      storage: this.storage,
      scope,
      timing: this.timing,
      send: (group, from, to, messages) => this.send(group, from, to, messages),
      wake: (replica) => {
        if (replica.nextDueAtMs() !== null) this.awake.add(replica);
        this.sweeps.note(replica);
      },
      ...(this.options.balance === undefined ? {} : { loadReports: { ...this.options.balance, send: (load: GroupLoad) => void this.cluster.caller.call(metaGroup, loadReportPath, load, false) } }),
      failed: (replica, error) => {
        console.error(`edgeraft node: a driver pass of ${replica.scope} failed and was rolled back; reopening it: ${String(error)}`);
        queueMicrotask(() => this.reopen(replica));
      },
    });
  }

  /** Replaces a replica whose pass failed with a fresh one built from its rows. */
  private reopen(replica: NodeReplica): void {
    const identity = replica.identity;
    this.awake.delete(replica);
    this.sweeps.forget(replica);
    replica.close();
    if (identity === undefined) return;
    const key = keyOf(identity.group, identity.replica);
    if (this.replicas.get(key) === replica) this.replicas.delete(key);
    this.open(replica.scope);
  }
}

const sameFaults = (a: ReplicaFaults, b: ReplicaFaults): boolean => a.isolated === b.isolated && a.dropFraction === b.dropFraction && a.delayFraction === b.delayFraction && a.delayMs === b.delayMs;

const keyOf = (group: string, replica: number): string => `${group}/${replica}`;
