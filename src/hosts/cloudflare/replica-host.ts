/**
 * Plumbing between one replica Durable Object and the runtime-agnostic ReplicaRuntime: SQLite
 * stores, identity (which group and replica this object is), the peer transport, and the one DO
 * alarm carrying the runtime's next tick. A quiet replica sets no alarm, so an idle group costs
 * nothing and its objects may hibernate.
 */
import { ReplicaRuntime, type ReplicaTiming } from "../common/replica-runtime.ts";
import type { ReplicaEndpoint, ReplicaIdentity } from "../common/replica-requests.ts";
import { KvStateMachine } from "../../kv/state-machine.ts";
import { bootstrapWrite } from "../../raft/storage.ts";
import { emptyConfState } from "../../raft/storage.ts";
import type { BootstrapRequest, ReplicaFaults } from "../../multiraft/protocol.ts";
import type { Message } from "../../raft/types.ts";
import { migrate, type SqlRunner } from "../common/sqlite/schema.ts";
import { SqliteLogStore } from "../common/sqlite/sqlite-log-store.ts";
import { SqliteKvStore } from "../common/sqlite/sqlite-kv-store.ts";
import { sqliteQuietNote } from "../common/sqlite/quiet-note.ts";
import { countEvent, eventCounts } from "../common/sqlite/event-counters.ts";
import { PeerTransport } from "./transport.ts";
import { LoadReporter, replicaLoadSource, reportsLoad } from "../common/load-reporter.ts";
import type { BalanceThresholds, GroupLoad } from "../../multiraft/balance.ts";
import { TxnSweeper, type SweepWork } from "../common/txn-sweep.ts";
import { StatsReporter, type ReplicaReport } from "../common/stats-reporter.ts";
import type { LocalityReport } from "../../multiraft/leader-balance.ts";
import { LocalityReporter } from "./locality-reporter.ts";

/** Where a data group's leader sends its reports: load (automatic splits and merges) and, when set, locality (leader placement). */
export interface LoadReports {
  thresholds: BalanceThresholds;
  send: (load: GroupLoad) => void;
  locality?: { reportMs: number; send: (report: LocalityReport) => void };
  /** IDLE_AFTER_MS: a group with no write for this long runs its one quiet check, then sets no alarm. */
  idleAfterMs?: number | undefined;
}

/** One replica's host state inside its Durable Object. */
export class ReplicaHost implements ReplicaEndpoint {
  identity: ReplicaIdentity | undefined;
  runtime: ReplicaRuntime | undefined;
  transport: PeerTransport | undefined;
  private readonly storage: DurableObjectStorage;
  private readonly namespace: DurableObjectNamespace;
  private readonly timing: Partial<ReplicaTiming>;
  private readonly reset: (reason: string) => void;
  private alarmAtMs: number | null = null;
  /** Peer requests and messages this object received since it started (reported by /internal/status). */
  readonly received = { batches: 0, messages: 0 };
  /** Reports this group's load to the metadata group's balancer (data groups only). */
  reporter: LoadReporter | undefined;
  private readonly loadReports: LoadReports | undefined;
  /** Resolves abandoned transactions while this replica leads a group that holds intents or records (data groups only). */
  private readonly sweeper: TxnSweeper | undefined;
  /** Sends this replica's reports to the stats aggregate GET /metrics reads (undefined: no aggregate). */
  private readonly sendStats: ((report: ReplicaReport) => void) | undefined;
  private stats: StatsReporter | undefined;
  /** Counts this group's requests by origin and reports them to the leader balancer (data groups only). */
  locality: LocalityReporter | undefined;
  /** A further deadline for the object's one alarm (the metadata group's leader balancer), or null. */
  extraDeadline: () => number | null = () => null;

  /** `reset` throws the object away (`ctx.abort`): the next request builds it again from storage. */
  constructor(
    storage: DurableObjectStorage,
    namespace: DurableObjectNamespace,
    timing: Partial<ReplicaTiming>,
    reset: (reason: string) => void,
    loadReports?: LoadReports,
    sweep?: (identity: ReplicaIdentity, work: SweepWork) => Promise<void>,
    sendStats?: (report: ReplicaReport) => void,
  ) {
    this.storage = storage;
    this.namespace = namespace;
    this.timing = timing;
    this.reset = reset;
    this.loadReports = loadReports;
    this.sendStats = sendStats;
    if (sweep !== undefined) {
      this.sweeper = new TxnSweeper({ runtime: () => this.runtime, nowMs: () => Date.now(), run: (work) => (this.identity === undefined ? Promise.resolve() : sweep(this.identity, work)) });
    }
  }

  private get sql(): SqlRunner {
    return this.storage.sql as unknown as SqlRunner;
  }

  /** Migrates the schema and, when this object already belongs to a group, starts its replica. */
  open(): void {
    migrate(this.sql);
    countEvent(this.sql, "starts");
    const row = this.sql.exec("SELECT value FROM raft_state WHERE name = 'identity'").toArray()[0];
    if (row === undefined) return;
    const identity = JSON.parse(String(row.value)) as ReplicaIdentity;
    if (identity.retired) this.identity = identity; // retired: it never runs again
    else this.start(identity);
  }

  /** Makes this object a founding replica of a group; idempotent. Returns false on a conflicting identity. */
  bootstrap(request: BootstrapRequest): boolean {
    if (this.identity !== undefined) return this.identity.group === request.group && this.identity.replica === request.replica;
    const identity: ReplicaIdentity = {
      group: request.group,
      replica: request.replica,
      locations: request.locations,
      owns: request.owns,
      epoch: request.epoch,
      retired: false,
    };
    this.storage.transactionSync(() => {
      this.saveIdentity(identity);
      // A founding replica starts with the group's first configuration; a joining one with an empty log.
      if (request.join !== true) new SqliteLogStore(this.sql).save(bootstrapWrite({ ...emptyConfState(), voters: request.voters }));
    });
    this.start(identity);
    return true;
  }

  /** First contact from a peer of a group this object was added to: it joins with an empty log. */
  adopt(group: string, replica: number): void {
    if (this.identity !== undefined) return;
    const identity: ReplicaIdentity = { group, replica, locations: {}, owns: { default: true }, epoch: 0, retired: false };
    this.saveIdentity(identity);
    this.start(identity);
  }

  /**
   * Retires this replica for good (removed from its group, or the group deleted): every request is
   * then refused with "replicaRetired", and the replica stops ticking and sending.
   */
  retire(): void {
    if (this.identity === undefined) return;
    this.identity = { ...this.identity, retired: true };
    this.saveIdentity(this.identity);
    this.stats?.maybeReport(); // the aggregate learns it is retired
    this.runtime?.abandon("the replica was retired");
    this.runtime = undefined;
    this.transport = undefined;
    this.reporter = undefined;
    this.schedule();
  }

  /** Steps peer messages and returns the replies for `from`. */
  receive(messages: Message[], from: number): Message[] {
    if (this.runtime === undefined || this.transport?.faults.isolated) return [];
    this.received.batches++;
    this.received.messages += messages.length;
    countEvent(this.sql, "raftBatches");
    countEvent(this.sql, "raftMessages", messages.length);
    const replies = this.runtime.receive(messages, from);
    this.schedule();
    return replies;
  }

  /** A client write was answered: the load reporter counts it. */
  afterWrite(): void {
    this.reporter?.afterWrite();
  }

  /** A client request from `origin` was answered: the locality reporter counts it. */
  noteOrigin(origin: string): void {
    this.locality?.noteOrigin(origin);
  }

  /** Raft traffic since the object started (reported by /internal/status). */
  traffic(): unknown {
    return { received: this.received, sent: this.transport?.counters, events: eventCounts(this.sql) };
  }

  /** Sets fault injection on this replica's transport. */
  setFaults(faults: ReplicaFaults): void {
    if (this.transport !== undefined) this.transport.faults = faults;
  }

  /** The alarm fired: advance time, then arm the next tick (or nothing when quiet). Answers the sweep it started, if any. */
  alarm(): Promise<void> | undefined {
    this.alarmAtMs = null;
    countEvent(this.sql, "alarms");
    this.runtime?.metrics.alarmFired();
    this.runtime?.tick();
    this.reporter?.quietCheck();
    const sweeping = this.sweeper?.maybeSweep()?.finally(() => this.schedule());
    this.locality?.flush();
    this.schedule();
    return sweeping;
  }

  /**
   * Arms the DO alarm at the earliest of the runtime's next tick, the load reporter's one quiet
   * check after the last write, the locality reporter's end of window and the extra deadline, or
   * clears it when there is none (the replica is quiet).
   */
  schedule(): void {
    this.stats?.maybeReport();
    const deadlines = [this.runtime?.nextTickAtMs() ?? null, this.reporter?.quietCheckAtMs() ?? null, this.sweeper?.dueAtMs() ?? null, this.locality?.flushAtMs() ?? null, this.extraDeadline()];
    const pending = deadlines.filter((deadline): deadline is number => deadline !== null);
    const next = pending.length === 0 ? null : Math.min(...pending);
    if (next === null) {
      if (this.alarmAtMs !== null) void this.storage.deleteAlarm();
      this.alarmAtMs = null;
      return;
    }
    if (this.alarmAtMs !== null && this.alarmAtMs <= next) return;
    this.alarmAtMs = next;
    void this.storage.setAlarm(next);
  }

  private start(identity: ReplicaIdentity): void {
    this.identity = identity;
    const logStore = new SqliteLogStore(this.sql);
    const kvStore = new SqliteKvStore(this.sql);
    const stateMachine = new KvStateMachine(kvStore, { resume: kvStore.readMeta(), resumeSessions: kvStore.readSessions() });
    const transport = new PeerTransport({
      namespace: this.namespace,
      group: identity.group,
      self: identity.replica,
      locations: identity.locations,
      onReplies: (messages) => {
        this.runtime?.receive(messages);
        this.schedule();
      },
      onUnreachable: (peer) => this.runtime?.unreachable(peer),
    });
    this.transport = transport;
    this.runtime = new ReplicaRuntime({
      group: identity.group,
      id: identity.replica,
      logStore,
      stateMachine,
      send: (to, messages) => transport.send(to, messages),
      nowMs: () => Date.now(),
      seed: Math.floor(Math.random() * 2 ** 31),
      timing: this.timing,
      transaction: (work) => this.atomically(work),
      whenDurable: () => this.storage.sync(),
      pumped: () => this.schedule(),
      applied: () => kvStore.writeMeta(stateMachine.takeMetaChanges()),
      quietNote: sqliteQuietNote(this.sql),
    });
    if (this.loadReports !== undefined && reportsLoad(identity.owns)) this.reporter = new LoadReporter(replicaLoadSource(identity.group, kvStore, () => this.runtime), this.loadReports.thresholds, this.loadReports.send, this.loadReports.idleAfterMs);
    const locality = this.loadReports?.locality;
    if (locality !== undefined) {
      const leadership = () => {
        const brief = this.runtime?.node.brief();
        return { leading: brief?.role === "leader", term: brief?.term ?? 0 };
      };
      this.locality = new LocalityReporter({ group: identity.group, replica: identity.replica, leadership, nowMs: () => Date.now() }, locality.reportMs, locality.send);
    }
    if (this.sendStats !== undefined) {
      const shape = () => {
        const brief = this.runtime?.node.brief();
        return brief === undefined ? undefined : `${brief.role} ${brief.term} ${brief.leader} ${brief.quiesced} ${this.identity?.retired}`;
      };
      this.stats = new StatsReporter({ shape, take: () => this.report(), send: this.sendStats, nowMs: () => Date.now() });
    }
    this.schedule();
  }

  /** This replica's report for the stats aggregate. */
  private report(): Omit<ReplicaReport, "atMs"> | undefined {
    if (this.runtime === undefined || this.identity === undefined) return undefined;
    const { role, term, leader, commit, applied, firstIndex, lastIndex, quiesced, proposals, transactions, metrics, conf, followerLagMs, txnIntents, txnRecords } = this.runtime.status();
    // The configuration and the leader's view of follower lag are what GET /v1/health reads.
    const status = { role, term, leader, commit, applied, firstIndex, lastIndex, quiesced, proposals, transactions, metrics, conf: { voters: conf.voters, learners: conf.learners }, followerLagMs, txnIntents, txnRecords };
    const { group, replica, locations, retired } = this.identity;
    return { group, replica, location: locations[replica] ?? "", retired, status, traffic: this.traffic() };
  }

  /**
   * Runs one driver pass in one SQLite transaction. A pass that throws (a bug, a storage error) is
   * rolled back, but the engine and state machine moved ahead of storage in memory: going on from
   * them would serve and replicate state that is not on disk. So the object is reset and reloads.
   */
  private atomically<T>(work: () => T): T {
    try {
      return this.storage.transactionSync(work);
    } catch (error) {
      this.runtime?.abandon("the replica failed and restarts");
      this.reset(`a driver pass failed and was rolled back: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  }

  private saveIdentity(identity: ReplicaIdentity): void {
    this.sql.exec(
      "INSERT INTO raft_state (name, value) VALUES ('identity', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      JSON.stringify(identity),
    );
  }
}
