/**
 * The Durable Object classes: ReplicaObject (a replica of a data group) and MetaObject (a replica
 * of the metadata group). Thin: internal routes (itty-router) hand over to ReplicaHost, the
 * host-neutral replica protocol (hosts/common/replica-requests.ts, shared with the Deno host) and
 * the ReplicaRuntime. Only the Worker talks to these routes; they are never exposed publicly.
 */
import { DurableObject } from "cloudflare:workers";
import { Router, type IRequest } from "itty-router";
import { decodeBatch, encodeBatch } from "../../multiraft/wire.ts";
import { noFaults, type ReplicaFaults } from "../../multiraft/protocol.ts";
import { injectedFaultMessage } from "../../shared/injected-fault.ts";
import { answerReplicaRequest, replicaRequestPaths } from "../common/replica-requests.ts";
import { ReplicaHost } from "./replica-host.ts";
import { leaderBalanceRulesOf, localityReportMsOf, locationsOf, type Env } from "./env.ts";
import { idleAfterMsOf, thresholdsOf } from "../common/load-reporter.ts";
import type { GroupLoad } from "../../multiraft/balance.ts";
import { defaultLeaderBalanceRules, type LocalityReport } from "../../multiraft/leader-balance.ts";
import { Balancer } from "../../router/cluster-client/balancer.ts";
import { LeaderBalancer } from "../../router/cluster-client/leader-balancer.ts";
import { ClusterClient } from "../../router/cluster-client/cluster-client.ts";
import { logEvent, setLogLevel } from "../../router/log.ts";
import { DurableObjectDirectory } from "./directory.ts";
import type { ReplicaIdentity } from "../common/replica-requests.ts";
import type { SweepWork } from "../common/txn-sweep.ts";
import { sendStatsReport } from "./stats-object.ts";
import { sqlLeaderBalanceStore } from "./leader-balance-store.ts";

const json = (body: unknown, status = 200): Response => Response.json(body, { status });

/** A replica of a data group (one object per `<group>/<replica>`). */
export class ReplicaObject extends DurableObject<Env> {
  protected readonly host: ReplicaHost;
  protected readonly router = Router();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    setLogLevel(env.LOG_LEVEL);
    const tickMs = Number(env.RAFT_TICK_MS ?? "");
    const snapshotEntries = Number(env.RAFT_SNAPSHOT_ENTRIES ?? "");
    const timing = {
      ...(Number.isFinite(tickMs) && tickMs > 0 ? { tickMs } : {}),
      ...(Number.isSafeInteger(snapshotEntries) && snapshotEntries > 0 ? { snapshotEntries } : {}),
    };
    const rules = leaderBalanceRulesOf(env);
    const locality = rules === undefined ? {} : { locality: { reportMs: localityReportMsOf(rules), send: (report: LocalityReport) => void reportLoad(env, { group: report.group, locality: report }) } };
    const loadReports = this.peers(env) === env.REPLICA ? { thresholds: thresholdsOf(env), send: (load: GroupLoad) => void reportLoad(env, load), idleAfterMs: idleAfterMsOf(env), ...locality } : undefined;
    const dataGroup = this.peers(env) === env.REPLICA;
    const sweep = dataGroup ? (identity: ReplicaIdentity, work: SweepWork) => this.sweep(identity, work) : undefined;
    this.host = new ReplicaHost(ctx.storage, this.peers(env), timing, (reason) => ctx.abort(reason), loadReports, sweep, (report) => void sendStatsReport(env, report));
    void ctx.blockConcurrencyWhile(async () => this.host.open());
    this.routes();
  }

  /** The namespace holding this object's peers. */
  protected peers(env: Env): DurableObjectNamespace {
    return env.REPLICA;
  }

  override async fetch(request: Request): Promise<Response> {
    return (await this.router.fetch(request)) ?? json({ kind: "notFound" }, 404);
  }

  override async alarm(): Promise<void> {
    const sweeping = this.host.alarm();
    if (sweeping !== undefined) this.ctx.waitUntil(sweeping.catch((error: unknown) => logEvent("warn", "txnSweepFailed", { error: String(error) })));
  }

  private cluster: ClusterClient | undefined;

  /** A cluster client of this object's own (the transaction sweep, and the metadata group's balancers). */
  protected clusterClient(): ClusterClient {
    this.cluster ??= new ClusterClient({ directory: new DurableObjectDirectory(this.env), locations: locationsOf(this.env) });
    return this.cluster;
  }

  /** Resolves this group's abandoned intents and transaction records through a cluster client of its own. */
  private async sweep(identity: ReplicaIdentity, work: SweepWork): Promise<void> {
    const keyspace = "tenant" in identity.owns ? { kind: "tenant" as const, tenant: identity.owns.tenant } : { kind: "shared" as const };
    await this.clusterClient().sweepTransactions(keyspace, identity.group, work);
    logEvent("info", "txnSwept", { group: identity.group, intents: work.intents.length, records: work.records.length });
  }

  protected routes(): void {
    const r = this.router;
    r.post("/internal/raft", (request) => this.raft(request));
    for (const path of replicaRequestPaths) {
      r.all(path, async (request) => {
        const body: unknown = request.method === "GET" ? undefined : await request.json();
        const answer = await answerReplicaRequest(this.host, path, body);
        return json(answer.body, answer.status);
      });
    }
    r.post("/internal/faults", async (request) => {
      const body = (await request.json()) as Partial<ReplicaFaults>;
      this.logFault("faults", body);
      this.host.setFaults({ ...(this.host.transport?.faults ?? noFaults), ...body }); // faults add up; heal sends all zeros
      return json({ ok: true });
    });
    r.post("/internal/crash", () => {
      this.logFault("crash", {});
      this.host.runtime?.abandon("crash requested");
      this.ctx.abort(injectedFaultMessage("crash requested through the fault routes"));
      return json({ ok: true });
    });
  }

  /** Logs a fault injected into this replica (info: quiet at the default level). */
  private logFault(kind: string, fault: Record<string, unknown>): void {
    const identity = this.host.identity;
    logEvent("info", "faultInjected", { kind, ...fault, group: identity?.group, replica: identity?.replica, term: this.host.runtime?.node.brief().term });
  }

  private async raft(request: IRequest): Promise<Response> {
    const decoded = decodeBatch(new Uint8Array(await request.arrayBuffer()));
    if (!decoded.ok) return json({ kind: "badRequest", error: decoded.error }, 400);
    const { group, from, to, messages } = decoded.batch;
    if (this.host.identity === undefined) this.host.adopt(group, to);
    if (this.host.identity?.retired === true) return json({ kind: "replicaRetired" }, 410);
    if (this.host.identity?.group !== group || this.host.identity.replica !== to) return json({ kind: "wrongReplica" }, 409);
    const replies = this.host.receive(messages, from);
    return new Response(encodeBatch({ group, from: to, to: from, messages: replies }), { headers: { "content-type": "application/octet-stream" } });
  }
}

/**
 * A replica of the metadata group (`meta/1` to `meta/3`); same engine, its own namespace. Its
 * leader runs the balancer (automatic splits and merges) and the leader balancer, whose passes
 * its alarm drives.
 */
export class MetaObject extends ReplicaObject {
  private balancer: Balancer | undefined;
  private leaderBalancer: LeaderBalancer | undefined;

  protected override peers(env: Env): DurableObjectNamespace {
    return env.META;
  }

  override async alarm(): Promise<void> {
    this.runLeaderPass(); // first: a pass that started is not due again when the alarm is re-armed below
    await super.alarm();
  }

  protected override routes(): void {
    super.routes();
    // The balancer is made (from its saved state) when this replica leads: a restarted leader goes on with a pass that was due.
    this.host.extraDeadline = () => (this.leading() ? (this.leaderBalancerOf()?.nextPassAtMs(Date.now()) ?? null) : null);
    // A data group's report: its load (the leader decides and runs automatic splits and merges, in
    // the background) and/or where its requests came from (noted for the leader balancer's next pass).
    this.router.post("/internal/report", async (request) => {
      const runtime = this.host.runtime;
      const brief = runtime?.node.brief();
      if (brief?.role !== "leader") return json({ kind: "notLeader", leader: brief?.leader ?? 0 });
      const report = (await request.json()) as (GroupLoad & { locality?: LocalityReport }) | { group: string; keys?: undefined; locality?: LocalityReport };
      if (typeof report?.group !== "string" || (typeof report.keys !== "number" && !isLocalityReport(report.locality))) return json({ kind: "badRequest" }, 400);
      if (isLocalityReport(report.locality)) {
        this.leaderBalancerOf()?.note(report.locality, Date.now());
        this.host.schedule();
      }
      if (typeof report.keys !== "number") return json({ kind: "ok" });
      const load = report as GroupLoad;
      this.balancer ??= new Balancer(this.clusterClient(), thresholdsOf(this.env));
      this.ctx.waitUntil(
        this.balancer.consider(load).then(
          (outcome) => outcome.kind !== "none" && outcome.kind !== "busy" && logEvent("info", "balance", { ...outcome, group: load.group, load }),
          (error: unknown) => logEvent("warn", "balanceFailed", { group: load.group, error: String(error), load }),
        ),
      );
      return json({ kind: "ok" });
    });
    // The best leader for a group an operator asked to move without naming a replica.
    this.router.post("/internal/leader-advice", async (request) => {
      const brief = this.host.runtime?.node.brief();
      if (brief?.role !== "leader") return json({ kind: "notLeader", leader: brief?.leader ?? 0 });
      const asked = (await request.json()) as { group?: unknown; replicas?: unknown; leader?: unknown };
      if (typeof asked.group !== "string" || !Array.isArray(asked.replicas) || typeof asked.leader !== "number") return json({ kind: "badRequest" }, 400);
      const balancer = this.leaderBalancerOf() ?? new LeaderBalancer(this.clusterClient(), defaultLeaderBalanceRules);
      const replicas = asked.replicas as { id: number; location: string }[];
      return json({ kind: "ok", replica: await balancer.advise(asked.group, replicas, asked.leader, Date.now()) });
    });
  }

  private leading(): boolean {
    return this.host.runtime?.node.brief().role === "leader";
  }


  /** The leader balancer, made on first use; undefined when leader balancing is off. */
  private leaderBalancerOf(): LeaderBalancer | undefined {
    const rules = leaderBalanceRulesOf(this.env);
    if (rules === undefined) return undefined;
    this.leaderBalancer ??= new LeaderBalancer(this.clusterClient(), rules, sqlLeaderBalanceStore(this.ctx.storage));
    return this.leaderBalancer;
  }

  /** Runs a leader balancing pass in the background when one is due at this metadata leader. */
  private runLeaderPass(): void {
    const balancer = this.leading() ? this.leaderBalancerOf() : undefined;
    const due = balancer?.nextPassAtMs(Date.now()) ?? null;
    if (balancer === undefined || due === null || due > Date.now() || !this.leading()) return;
    this.ctx.waitUntil(
      balancer.pass(() => Date.now()).then(
        (outcomes) => outcomes.forEach((outcome) => logEvent(outcome.ok ? "info" : "warn", "leaderBalance", { ...outcome })),
        (error: unknown) => logEvent("warn", "leaderBalanceFailed", { error: String(error) }),
      ).finally(() => this.host.schedule()),
    );
  }
}

/** Whether `value` is a well-formed locality report. */
function isLocalityReport(value: unknown): value is LocalityReport {
  if (typeof value !== "object" || value === null) return false;
  const report = value as Partial<LocalityReport>;
  const requests = report.requests as unknown;
  return typeof report.group === "string" && Number.isSafeInteger(report.leader) && Number.isSafeInteger(report.term)
    && typeof requests === "object" && requests !== null && Object.values(requests).every((count) => typeof count === "number" && Number.isFinite(count) && count >= 0);
}

/** Sends a data group's load or locality report to the metadata group's leader (best effort: a lost report is followed by the next). */
async function reportLoad(env: Env, load: GroupLoad | { group: string; locality: LocalityReport }): Promise<void> {
  let target = 1;
  for (let hop = 0; hop < 3; hop++) {
    try {
      const stub = env.META.get(env.META.idFromName(`meta/${target}`));
      const response = await stub.fetch("https://meta/internal/report", { method: "POST", body: JSON.stringify(load), headers: { "content-type": "application/json" } });
      const answer = (await response.json()) as { kind: string; leader?: number };
      if (answer.kind !== "notLeader") return;
      target = answer.leader !== undefined && answer.leader > 0 ? answer.leader : (target % 3) + 1;
    } catch {
      target = (target % 3) + 1;
    }
  }
}
