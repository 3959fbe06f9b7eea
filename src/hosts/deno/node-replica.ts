/**
 * One replica hosted by a Deno node: its rows of the node's shared database (the
 * hosts/common/sqlite stores scoped to it), its identity row, and the shared ReplicaRuntime. Each
 * driver pass joins the node's current turn (node-storage.ts). Messages leave through the node's
 * transport once the turn is synced, except a leader's AppendEntries, which leave at once; time
 * comes from the node's one ticker, which the replica asks to be woken by (schedule).
 */
import { ReplicaRuntime, type ReplicaTiming } from "../common/replica-runtime.ts";
import type { ReplicaEndpoint, ReplicaIdentity } from "../common/replica-requests.ts";
import { SqliteLogStore } from "../common/sqlite/sqlite-log-store.ts";
import { SyncNotingLogStore } from "./sync-noting-log-store.ts";
import { SqliteKvStore } from "../common/sqlite/sqlite-kv-store.ts";
import { WriteBackKvStore } from "./write-back-kv-store.ts";
import { sqliteQuietNote } from "../common/sqlite/quiet-note.ts";
import { KvStateMachine } from "../../kv/state-machine.ts";
import { bootstrapWrite, emptyConfState } from "../../raft/storage.ts";
import { noFaults, type BootstrapRequest, type ReplicaFaults } from "../../multiraft/protocol.ts";
import type { Message } from "../../raft/types.ts";
import type { NodeStorage } from "./node-storage.ts";
import { LoadReporter, replicaLoadSource, reportsLoad } from "../common/load-reporter.ts";
import { metaGroup } from "../../router/cluster-client/directory.ts";
import type { BalanceThresholds, GroupLoad } from "../../multiraft/balance.ts";

/** What the node gives each replica. */
export interface NodeReplicaOptions {
  /** The node's database. */
  storage: NodeStorage;
  /** Names this replica's rows in it (`<group>/<replica>`). */
  scope: string;
  timing: Partial<ReplicaTiming>;
  /** Hands messages for replica `to` of this group to the node transport. */
  send(group: string, from: number, to: number, messages: Message[]): void;
  /** The replica has (or may have) a new next tick: the node's ticker looks at it again. */
  wake(replica: NodeReplica): void;
  /** A driver pass failed and was rolled back: the node must close this replica and open it again. */
  failed(replica: NodeReplica, error: unknown): void;
  /** How long the state machine's changes may wait in memory before a pass writes them (default writeBackIntervalMs; the log is written and synced at once regardless). */
  writeBackIntervalMs?: number;
  /** Where a data group's leader sends its load reports (automatic splits and merges); none for the metadata group. */
  loadReports?: { thresholds: BalanceThresholds; idleAfterMs?: number; send(load: GroupLoad): void };
}

/** How long, by default, a Deno replica's state changes wait in memory before a pass writes them (etcd's backend batch interval). */
export const writeBackIntervalMs = 100;
/** Most keys, and most bytes of keys and values, that wait to be written; a pass that leaves more writes them. */
const writeBackKeysMax = 4096;
const writeBackBytesMax = 16 * 1024 * 1024;

/** A replica's write-back of its state machine (write-back-kv-store.ts): the store, and when it was last written. */
class StateWriteBack {
  readonly store: WriteBackKvStore;
  private readonly machine: KvStateMachine;
  private readonly intervalMs: number;
  /** The log index the state on disk stands for (entries after it are replayed from the log after a crash). */
  private flushedApplied: number;
  private flushedAtMs = performance.now();

  constructor(stored: SqliteKvStore, intervalMs: number) {
    this.store = new WriteBackKvStore(stored);
    this.machine = new KvStateMachine(this.store, { resume: stored.readMeta(), resumeSessions: stored.readSessions() });
    this.flushedApplied = this.machine.appliedIndex;
    this.intervalMs = intervalMs;
  }

  get stateMachine(): KvStateMachine {
    return this.machine;
  }

  /**
   * At the end of a driver pass: writes what waits when a batch is due, when much waits, when the
   * group went quiet (nothing may run for a long while, and its load report reads the disk), and
   * when the log no longer holds every entry after the state on disk (a snapshot taken or
   * installed in this pass): the invariant of write-back-kv-store.ts.
   */
  endOfPass(logFirstIndex: number, quiet: boolean): void {
    const store = this.store;
    if (!store.pending) return;
    const now = performance.now();
    const due = now - this.flushedAtMs >= this.intervalMs || quiet || store.mustFlush || store.pendingKeys >= writeBackKeysMax || store.pendingBytes >= writeBackBytesMax || logFirstIndex - 1 > this.flushedApplied;
    if (!due) return;
    this.flush(now);
    // Entries the state machine never sees (no-ops, membership changes) may end the compacted log:
    // the state on disk stands for them too.
    this.flushedApplied = Math.max(this.flushedApplied, logFirstIndex - 1);
  }

  /** Writes everything that waits (also before a snapshot is taken, so that it reads the store alone). */
  flush(now = performance.now()): void {
    if (!this.store.pending) return;
    this.store.flush(this.machine.takeMetaChanges());
    this.flushedApplied = this.machine.appliedIndex;
    this.flushedAtMs = now;
  }
}

/** A replica on this node. */
export class NodeReplica implements ReplicaEndpoint {
  identity: ReplicaIdentity | undefined;
  runtime: ReplicaRuntime | undefined;
  /** Raft batches and messages received since start. */
  readonly received = { batches: 0, messages: 0 };
  /** The load reporter of a data group of the shared keyspace (it measures only while this replica leads). */
  private reporter: LoadReporter | undefined;
  /** Injected transport faults (FAULTS=on only; the node applies them to this replica's messages); gone when the replica is reopened, as a crashed Durable Object's are. */
  faults: ReplicaFaults = { ...noFaults };
  private readonly options: NodeReplicaOptions;
  private readonly storage: NodeStorage;
  /** A pass failed: this object must not be used any more (the node reopens the replica). */
  private broken = false;
  /** A new term or vote was written in the open turn: even a leader's messages wait for its sync. */
  private termOrVoteUnsynced = false;
  /** Batches of AppendEntries sent before their turn was synced and not synced yet. */
  private earlyAppendsUnsynced = 0;
  /** Acknowledgements that arrived meanwhile for entries not synced here, stepped in order once every early AppendEntries is synced. */
  private heldInput: Message[][] = [];
  /** Input was stepped without a pass, which runs when the node's sync in flight ends (catchUp). */
  private catchUpPending = false;
  /** Every log entry up to this index, as the log now stands, is synced (a lower bound). */
  private durableIndex = 0;
  /** The log's last index after each pass that wrote entries, raised into durableIndex when its turn is synced. */
  private readonly durableMarks: { upTo: number }[] = [];

  /** Reads the replica's rows and, when it already belongs to a group, starts the replica. */
  constructor(options: NodeReplicaOptions) {
    this.options = options;
    this.storage = options.storage;
    const row = this.storage.database.exec("SELECT value FROM raft_state WHERE scope = ? AND name = 'identity'", options.scope).toArray()[0];
    if (row === undefined) return;
    const identity = JSON.parse(String(row.value)) as ReplicaIdentity;
    if (identity.retired) this.identity = identity; // retired: it never runs again
    else this.start(identity);
  }

  bootstrap(request: BootstrapRequest): boolean {
    if (this.identity !== undefined) return this.identity.group === request.group && this.identity.replica === request.replica;
    const identity: ReplicaIdentity = { group: request.group, replica: request.replica, locations: request.locations, owns: request.owns, epoch: request.epoch, retired: false };
    this.storage.pass(() => {
      this.saveIdentity(identity);
      if (request.join !== true) new SqliteLogStore(this.storage.database, this.options.scope).save(bootstrapWrite({ ...emptyConfState(), voters: request.voters }));
    }, () => true);
    this.start(identity);
    return true;
  }

  /** This replica has no rows but its group went past its bootstrap: it joins with an empty log, at `fenceTerm`, recovering (replica-adoption.ts); false if it has rows. */
  adopt(request: Pick<BootstrapRequest, "group" | "replica" | "locations" | "owns" | "epoch">, fenceTerm: number): boolean {
    if (this.identity !== undefined) return false;
    const { group, replica, locations, owns, epoch } = request;
    const identity: ReplicaIdentity = { group, replica, locations, owns, epoch, retired: false, recovering: true };
    this.storage.pass(() => {
      this.saveIdentity(identity);
      new SqliteLogStore(this.storage.database, this.options.scope).save({ hardState: { term: fenceTerm, vote: 0, commit: 0 }, entries: [], snapshot: null });
    }, () => true);
    this.start(identity);
    return true;
  }

  retire(): void {
    if (this.identity === undefined) return;
    this.identity = { ...this.identity, retired: true };
    const identity = this.identity;
    this.storage.pass(() => this.saveIdentity(identity), () => true);
    this.runtime?.abandon("the replica was retired");
    this.runtime = undefined; // it never runs again
    this.reporter = undefined;
    this.schedule();
  }

  /**
   * Steps a batch from a peer; the replies leave through the transport like any message. While
   * AppendEntries this replica sent early are not synced, an acknowledgement of an entry past
   * what is synced here waits (the engine counted the leader's own copy already, so stepping it
   * could commit an entry only the followers hold); everything else is stepped now. An entry is
   * then committed only up to the highest acknowledged index, which is synced here: a quorum of
   * durable copies with the leader's.
   */
  receive(messages: Message[]): void {
    if (this.runtime === undefined || this.broken) return;
    if (this.earlyAppendsUnsynced > 0) {
      const unsynced = (m: Message) => m.type === "appResp" && !m.reject && m.index > this.durableIndex;
      const waiting = messages.filter(unsynced);
      if (waiting.length > 0) {
        this.heldInput.push(waiting);
        messages = messages.filter((m) => !unsynced(m));
        if (messages.length === 0) return;
      }
    }
    if (messages.length > 0) this.received.batches++; // not a wake's empty pass
    this.received.messages += messages.length;
    // A follower's pass sends nothing before the node's next sync but one (afterTurn), so while a
    // sync is in flight its input waits for that sync's end: one pass then for all that came. Not
    // a read index, which a read waiting here is answered with at once (that pass runs now, over
    // everything stepped before it too).
    const readIndex = messages.some((m) => m.type === "readIndexResp");
    if (!readIndex && this.catchUpPending) return this.runtime.stepOnly(messages);
    if (!readIndex && this.runtime.node.brief().role === "follower" && this.storage.deferWhileSyncing(this.catchUp)) {
      this.catchUpPending = true;
      return this.runtime.stepOnly(messages);
    }
    this.runtime.receive(messages);
    this.schedule();
  }

  /** Leaves quiescence as a message would (a quiet leader heartbeats again; a quiet follower tells its leader, and its election timer runs); throws as receive does. */
  wake(): void {
    if (this.runtime === undefined || this.broken) return;
    this.runtime.node.wake();
    this.receive([]); // a driver pass: what waking sends leaves now, and the timers start from now (ReplicaRuntime.pump)
  }

  /** Runs the pass a follower put off while the node synced (receive); never throws, as deferWhileSyncing asks. */
  private readonly catchUp = () => {
    this.catchUpPending = false;
    if (this.runtime === undefined || this.broken) return;
    try {
      this.runtime.receive([]);
      this.schedule();
    } catch {
      // rolled back; the replica is being reopened (atomically)
    }
  };

  schedule(): void {
    if (this.broken) return; // closed or reopened: the node's ticker must not take it back
    this.options.wake(this);
  }

  /** A client write was answered here: the load reporter counts it (the request's schedule() then arms its quiet check). */
  afterWrite(): void {
    if (!this.broken) this.reporter?.afterWrite();
  }

  /** When the node's ticker must next look at this replica (its engine's next tick, or the load reporter's quiet check), or null. */
  nextDueAtMs(): number | null {
    const tick = this.runtime?.nextTickAtMs() ?? null;
    const quiet = this.reporter?.quietCheckAtMs() ?? null;
    return tick === null ? quiet : quiet === null ? tick : Math.min(tick, quiet);
  }

  /** Runs what is due at `nowMs`: the engine's tick, the load reporter's quiet check. */
  tick(nowMs: number): void {
    const runtime = this.runtime;
    const next = runtime?.nextTickAtMs() ?? null;
    if (next !== null && next <= nowMs) runtime!.tick();
    const quietAt = this.reporter?.quietCheckAtMs() ?? null;
    if (quietAt !== null && quietAt <= nowMs) this.reporter!.quietCheck();
  }

  /**
   * Whether everything the state machine reflects is in the log as synced here: then an answer
   * read from it reveals nothing a crash could take back (the state machine is rebuilt from the
   * log), and need not wait for the node's next sync. A one-voter group's fresh commit, or a
   * follower's entries applied in an unsynced turn, are not.
   */
  reflectsOnlyDurable(): boolean {
    const runtime = this.runtime;
    return runtime !== undefined && !this.broken && runtime.node.brief().applied <= this.durableIndex;
  }

  traffic(): unknown {
    return { received: this.received };
  }

  /** Names this replica's rows in the node's database. */
  get scope(): string {
    return this.options.scope;
  }

  /** Fails waiting requests (the node is stopping, or reopens the replica); its rows stay. */
  close(): void {
    this.broken = true;
    this.reporter = undefined;
    this.runtime?.abandon("the node is stopping");
  }

  private start(identity: ReplicaIdentity): void {
    this.identity = identity;
    const logStore = new SyncNotingLogStore(this.storage.database, this.options.scope);
    this.durableIndex = 0;
    this.markDurableAfterTurn(logStore.lastIndex()); // at once, unless a turn is open or syncing (a bootstrap just wrote)
    const writeBack = new StateWriteBack(new SqliteKvStore(this.storage.database, this.options.scope), this.options.writeBackIntervalMs ?? writeBackIntervalMs);
    const { store: kvStore, stateMachine } = writeBack;
    this.runtime = new ReplicaRuntime({
      group: identity.group,
      id: identity.replica,
      logStore,
      stateMachine,
      send: (to, messages) => this.send(identity, to, messages),
      nowMs: () => Date.now(),
      seed: Math.floor(Math.random() * 2 ** 31),
      timing: this.options.timing,
      // The turn syncs only when a pass wrote entries, a snapshot, a term or a vote (node-storage.ts).
      transaction: (work) =>
        this.atomically(() => {
          const result = work();
          if (this.identity?.recovering === true && this.runtime?.node.recovering() === false) this.saveIdentity((this.identity = { ...this.identity, recovering: false })); // caught up: in this pass's turn
          // No runtime yet: the pass is its constructor's (a restart's replay), written back at once.
          writeBack.endOfPass(logStore.firstIndex(), this.runtime === undefined || this.runtime.node.brief().quiesced);
          return result;
        }, logStore),
      // The requests that arrive while the turn syncs, for every group led here, join the next
      // turn together (group commit).
      whenDurable: () => this.storage.whenSynced(),
      pumped: () => this.schedule(),
      applied: () => kvStore.noteApplied(),
      beforeSnapshot: () => writeBack.flush(),
      quietNote: sqliteQuietNote(this.storage.database, this.options.scope),
      recovering: identity.recovering === true,
    });
    const reports = this.options.loadReports;
    this.reporter = reports !== undefined && identity.group !== metaGroup.name && reportsLoad(identity.owns) ? new LoadReporter(replicaLoadSource(identity.group, kvStore, () => this.runtime), reports.thresholds, reports.send, reports.idleAfterMs) : undefined;
    this.schedule();
  }

  /**
   * Runs one driver pass in one transaction. A pass that throws (a bug, a full disk) is rolled
   * back, but the engine and state machine moved ahead of storage in memory: going on from them
   * would serve and replicate state that is not on disk. So the replica fails its waiting requests,
   * stops (`broken`), and the node opens it again from its file, as a Durable Object is reset.
   */
  private atomically<T>(work: () => T, logStore: SyncNotingLogStore): T {
    if (this.broken) throw new Error("the replica failed and is being reopened");
    try {
      const result = this.storage.pass(work, () => logStore.takeMustSync());
      this.noteWrittenEntries(logStore);
      if (logStore.takeTermOrVoteChanged() && !this.termOrVoteUnsynced) {
        this.termOrVoteUnsynced = true;
        this.storage.afterTurn(() => (this.termOrVoteUnsynced = false));
      }
      return result;
    } catch (error) {
      this.broken = true;
      this.runtime?.abandon("the replica failed and restarts");
      this.options.failed(this, error);
      throw error;
    }
  }

  /**
   * Hands a batch to the node: a leader's AppendEntries at once, so followers write while this
   * node syncs (Raft thesis 10.2.1); everything else once the turn that produced it is synced.
   */
  private send(identity: ReplicaIdentity, to: number, messages: Message[]): void {
    const early = this.termOrVoteUnsynced || !this.storage.pending ? [] : messages.filter((m) => m.type === "app");
    const held = early.length === 0 ? messages : messages.filter((m) => m.type !== "app");
    if (early.length > 0) {
      this.options.send(identity.group, identity.replica, to, early);
      this.earlyAppendsUnsynced++;
      this.storage.afterTurn(() => this.earlyAppendsSynced());
    }
    if (held.length > 0) this.storage.afterTurn(() => this.options.send(identity.group, identity.replica, to, held));
  }

  /**
   * After a pass: entries it wrote (or replaced) are not synced until its turn is, and a mark
   * raises durableIndex to the log's new end when that sync is done. The mark's callback is
   * queued before those of the pass's messages, so the held input sees the raised index.
   */
  private noteWrittenEntries(logStore: SyncNotingLogStore): void {
    const lowest = logStore.takeLowestWritten();
    if (lowest === undefined) return;
    const below = Math.max(0, lowest - 1);
    this.durableIndex = Math.min(this.durableIndex, below);
    for (const mark of this.durableMarks) mark.upTo = Math.min(mark.upTo, below);
    this.markDurableAfterTurn(logStore.lastIndex());
  }

  /** Raises durableIndex to `upTo` once everything written so far is synced (lowered meanwhile by any rewrite below it). */
  private markDurableAfterTurn(upTo: number): void {
    const mark = { upTo };
    this.durableMarks.push(mark);
    this.storage.afterTurn(() => {
      this.durableMarks.splice(this.durableMarks.indexOf(mark), 1);
      this.durableIndex = Math.max(this.durableIndex, mark.upTo);
    });
  }

  /** One batch of early AppendEntries is synced; once all are, the input that waited is stepped. */
  private earlyAppendsSynced(): void {
    this.earlyAppendsUnsynced--;
    if (this.earlyAppendsUnsynced > 0) return;
    const held = this.heldInput;
    this.heldInput = [];
    for (const messages of held) {
      try {
        this.receive(messages);
      } catch {
        return; // the pass was rolled back and the replica is being reopened
      }
    }
  }

  private saveIdentity(identity: ReplicaIdentity): void {
    this.storage.database.exec(
      "INSERT INTO raft_state (scope, name, value) VALUES (?, 'identity', ?) ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value",
      this.options.scope,
      JSON.stringify(identity),
    );
  }
}
