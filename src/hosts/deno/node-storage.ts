/**
 * A Deno node's one SQLite database, shared by every replica on the node: all groups' Raft logs,
 * hard states, snapshots and KV state machines (schema.ts sharedMigrations), each replica seeing
 * only its rows through scoped stores. This is TiKV's "one raft engine per store": a node syncs
 * once per sync however many groups wrote meanwhile (group commit across groups).
 *
 * A turn opens with the first driver pass that writes (BEGIN IMMEDIATE) and is committed in a
 * microtask at the end of the event-loop task, or, when a sync is in flight then, once that sync
 * ends (the tasks that run meanwhile add their passes to it). Each pass is a SAVEPOINT, so a pass
 * that throws is rolled back alone. When a turn wrote something Raft relies on after a crash
 * (etcd's MustSync), the WAL is fdatasynced on a worker thread, one sync at a time, while the
 * event loop goes on serving requests; the turn committed when it ends shares the next sync.
 * Under load a sync may also wait for options.syncSpacingMs (group commit), the turn held open the same way.
 *
 * Output gate: whatever depends on a write (a vote, an append acknowledgement, an answer to a
 * client) waits until it is synced (`afterTurn`, `whenSynced`). A leader's AppendEntries need not
 * (Raft thesis 10.2.1), so its followers write while it syncs; the replica that sent them then
 * steps no input until they are synced (node-replica.ts), which makes the engine's counting of
 * the leader's own acknowledgement at append time safe.
 */
import { assert } from "../../shared/assert.ts";
import { sharedMigrations } from "../common/sqlite/schema.ts";
import { SqliteDatabase } from "./sqlite-database.ts";

/** What the node hooks into its storage. */
export interface NodeStorageOptions {
  /** Called when the storage cannot make a commit durable: the process must stop (fail-stop). */
  failed(error: unknown): void;
  /** A WAL sync, a pass or a turn's COMMIT that began at `startedMs` (performance.now()) ended (statistics). */
  timed?(stage: "walSync" | "pass" | "turnCommit", startedMs: number): void;
  /**
   * Asked when a sync is wanted: the least time, in milliseconds, from the start of the previous
   * sync to the start of this one (a group-commit delay; 0: at once). Meanwhile the turn stays
   * open, as during a sync, so the passes of the tasks that run share its commit and its sync.
   */
  syncSpacingMs?(): number;
}

/** The database of a node, its turns, and its output gate. */
export class NodeStorage {
  readonly database: SqliteDatabase;
  /** Turns committed, passes run and WAL syncs since the node started (statistics). */
  readonly counters = { turns: 0, passes: 0, syncs: 0 };
  private readonly options: NodeStorageOptions;
  private turnOpen = false;
  private inPass = false;
  /** The open turn wrote something that must be synced. */
  private turnMustSync = false;
  /** Committed turns wrote something that must be synced and no sync has started since. */
  private syncWanted = false;
  private syncing = false;
  /** A sync is wanted and waits for syncSpacingMs to pass (the timer). */
  private delay: ReturnType<typeof setTimeout> | undefined;
  private lastSyncStartMs = Number.NEGATIVE_INFINITY;
  /** A sync ended in this task: the open turn's commit waits one more microtask (flush). */
  private settling = false;
  private closed = false;
  /** Outputs of turns committed (or open) since the last sync started: released after the next. */
  private waiting: (() => void)[] = [];
  /** Outputs released when the sync in flight ends. */
  private releasing: (() => void)[] = [];
  /** Work put off while the sync in flight runs (deferWhileSyncing), run when it ends. */
  private deferred: (() => void)[] = [];

  /** Opens (creating if needed) the node's database file. */
  constructor(path: string, options: NodeStorageOptions) {
    this.database = new SqliteDatabase(path, sharedMigrations);
    this.options = options;
  }

  /**
   * Runs one driver pass's writes as part of the current turn (opening one if needed), rolled
   * back alone if `work` throws. `mustSync`, asked after `work`, says whether the turn must sync.
   */
  pass<T>(work: () => T, mustSync: () => boolean): T {
    assert(!this.inPass && !this.closed, "passes do not nest, and not after close");
    const startedMs = performance.now();
    if (!this.turnOpen) this.openTurn();
    this.inPass = true;
    this.database.execute("SAVEPOINT pass");
    let result: T;
    try {
      result = work();
      this.database.execute("RELEASE pass");
    } catch (error) {
      try {
        this.database.execute("ROLLBACK TO pass; RELEASE pass");
      } catch (rollbackError) {
        // SQLite ended the whole transaction itself (a full disk, an I/O error): the turn's other
        // passes, which outputs wait on, are gone. Fail-stop, outside the caller's recovery.
        this.closed = true;
        queueMicrotask(() => this.options.failed(rollbackError));
      }
      throw error;
    } finally {
      this.inPass = false;
      this.options.timed?.("pass", startedMs);
    }
    this.counters.passes++;
    if (mustSync()) this.turnMustSync = true;
    return result;
  }

  /**
   * While a sync is in flight, keeps `work` (a follower's pass over the input that arrived meanwhile)
   * for when it ends, and returns true; returns false otherwise (the caller runs it now). Whatever
   * such a pass would send waits for the sync after the one in flight in either case (afterTurn):
   * run at its end, the pass joins the same turn and is covered by the same sync, so nothing leaves
   * later, and the input of many tasks shares one pass instead of one pass each. `work` must not
   * throw: it runs before the outputs the sync releases.
   */
  deferWhileSyncing(work: () => void): boolean {
    if (!this.syncing || this.closed) return false;
    this.deferred.push(work);
    return true;
  }

  /** Whether a turn is open: some writes of this task (or of the tasks since a sync started) are not committed yet. */
  get pending(): boolean {
    return this.turnOpen;
  }

  /** Runs `callback` once everything written so far is durable: now, or after the syncs that cover it. */
  afterTurn(callback: () => void): void {
    if (!this.turnOpen && !this.syncing && !this.syncWanted && this.waiting.length === 0) return callback();
    this.waiting.push(callback);
  }

  /**
   * Resolves once everything written so far is durable: the output gate of answers, and the
   * group-commit signal (ReplicaRuntimeOptions.whenDurable): the waiters of one sync are resolved
   * in one task, so the proposals that arrived meanwhile (the event loop serves requests while a
   * sync runs), of every group led here, share one turn and one sync.
   */
  whenSynced(): Promise<void> {
    return new Promise((resolve) => this.afterTurn(resolve));
  }

  /**
   * Ends the task's part of the open turn: commits it and starts a sync when one is wanted and
   * none is in flight. While a sync is in flight the turn stays open, and the passes of the tasks
   * that run meanwhile join it, so it is committed once when that sync ends, just before the next
   * sync starts: one COMMIT per sync, not per task. Nothing waits on the commit itself (what waits
   * is released by the sync that follows it, as before), and a COMMIT writes every page the turn
   * touched, so fewer of them write fewer pages.
   */
  flush(): void {
    if (!this.turnOpen || this.closed || this.syncing || this.delay !== undefined) return;
    if (this.settling) {
      // A sync just ended: the proposals it released (ReplicaRuntime's whenDurable resolves a
      // promise) run in the next microtasks; they join this turn instead of opening the next.
      this.settling = false;
      queueMicrotask(() => this.flush());
      return;
    }
    if (this.turnMustSync && this.heldForSpacing()) return; // the turn stays open meanwhile
    this.commitTurn();
    this.startSyncOrRelease();
  }

  /** Every replica scope that has an identity row, with that row's JSON. */
  identities(): { scope: string; identity: string }[] {
    return this.database
      .exec("SELECT scope, value FROM raft_state WHERE name = 'identity'")
      .toArray()
      .map((row) => ({ scope: String(row.scope), identity: String(row.value) }));
  }

  /** Commits the open turn, syncs, and closes the file; the object must not be used afterwards. */
  close(): void {
    if (this.closed) return;
    clearTimeout(this.delay);
    if (this.turnOpen) {
      this.database.execute("COMMIT");
      this.turnOpen = false;
    }
    this.database.syncWal();
    this.closed = true;
    this.database.close();
  }

  private commitTurn(): void {
    assert(!this.inPass, "a turn ends between passes");
    const startedMs = performance.now();
    this.database.execute("COMMIT");
    this.options.timed?.("turnCommit", startedMs);
    this.turnOpen = false;
    this.counters.turns++;
    if (this.turnMustSync) this.syncWanted = true;
    this.turnMustSync = false;
  }

  private openTurn(): void {
    this.database.execute("BEGIN IMMEDIATE");
    this.turnOpen = true;
    queueMicrotask(() => this.flush());
  }

  /**
   * Whether the next sync must wait for options.syncSpacingMs to pass since the previous one
   * started; if so, a timer commits the turn held open meanwhile (if any) and syncs when it has.
   */
  private heldForSpacing(): boolean {
    const wait = this.lastSyncStartMs + (this.options.syncSpacingMs?.() ?? 0) - performance.now();
    if (wait <= 0) return false;
    this.delay = setTimeout(() => {
      this.delay = undefined;
      if (this.closed) return;
      if (this.turnOpen) this.flush();
      else this.startSyncOrRelease();
    }, Math.ceil(wait)); // a timer may fire a fraction of a millisecond early
    return true;
  }

  private startSyncOrRelease(): void {
    if (this.syncing || this.delay !== undefined) return; // the sync in flight (or the delay) looks again when it ends
    if (!this.syncWanted) {
      // Nothing committed needs a sync: what waited depends only on durable writes.
      const released = this.waiting;
      this.waiting = [];
      for (const callback of released) callback();
      return;
    }
    if (this.heldForSpacing()) return;
    const startedMs = performance.now();
    this.lastSyncStartMs = startedMs;
    this.syncWanted = false;
    this.syncing = true;
    this.releasing = this.waiting;
    this.waiting = [];
    this.database.syncWalInBackground((error) => {
      this.options.timed?.("walSync", startedMs);
      this.synced(error);
    });
  }

  private synced(error: Error | null): void {
    if (this.closed) return;
    if (error !== null) return this.options.failed(error);
    this.syncing = false;
    this.counters.syncs++;
    const released = this.releasing;
    this.releasing = [];
    this.settling = true;
    try {
      const deferred = this.deferred;
      this.deferred = [];
      for (const work of deferred) work(); // passes of the open turn (each catches its own failure)
      for (const callback of released) callback(); // may add passes to the open turn
    } finally {
      // Also when a callback threw: the open turn must still be committed and synced.
      if (this.turnOpen) {
        // The turn kept open during the sync (flush), with what the callbacks and the proposals
        // they released add to it, is committed at the end of this task and covered by the next sync.
        queueMicrotask(() => this.flush());
      } else {
        this.settling = false;
        this.startSyncOrRelease();
      }
    }
  }
}
