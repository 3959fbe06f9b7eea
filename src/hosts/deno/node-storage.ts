/**
 * A Deno node's one SQLite database, shared by every replica on the node: all groups' Raft logs,
 * hard states, snapshots and KV state machines (schema.ts sharedMigrations), each replica seeing
 * only its rows through scoped stores. This is TiKV's "one raft engine per store": a node syncs
 * once per event-loop turn however many groups wrote in it (group commit across groups).
 *
 * A turn opens with the first driver pass that writes (BEGIN IMMEDIATE) and ends in a microtask,
 * before the event loop takes any other input: COMMIT, one fdatasync of the WAL when a pass wrote
 * something Raft relies on after a crash (etcd's MustSync), then the outputs held for the turn
 * are released. Each pass is a SAVEPOINT, so a pass that throws is rolled back alone.
 *
 * Output gate: whatever depends on a turn's writes (a vote, an append acknowledgement, an answer
 * to a client) waits for its end (`afterTurn`, `whenSynced`); a leader's AppendEntries need not
 * (Raft thesis 10.2.1), so its followers write while it does. That is safe without counting the
 * leader's own acknowledgement late: a turn ends before any other input is stepped, so every
 * acknowledgement a commit is decided from arrives after the leader's own sync; and a one-voter
 * group, which commits in the pass itself, answers only after the turn's sync.
 */
import { assert } from "../../shared/assert.ts";
import { sharedMigrations } from "../common/sqlite/schema.ts";
import { SqliteDatabase } from "./sqlite-database.ts";

/** The database of a node, its turns and its output gate. */
export class NodeStorage {
  readonly database: SqliteDatabase;
  /** Turns committed, passes run and WAL syncs since the node started (statistics). */
  readonly counters = { turns: 0, passes: 0, syncs: 0 };
  private turnOpen = false;
  private inPass = false;
  private mustSync = false;
  /** Run, in order, when the open turn is committed (and synced if it must be). */
  private afterSync: (() => void)[] = [];
  /** Group-commit waiters: resolved together, one macrotask after the turn they waited for. */
  private durableWaiters: (() => void)[] = [];
  private durableTimer: ReturnType<typeof setTimeout> | undefined;

  /** Opens (creating if needed) the node's database file. */
  constructor(path: string) {
    this.database = new SqliteDatabase(path, sharedMigrations);
  }

  /**
   * Runs one driver pass's writes as part of the current turn (opening one if needed), rolled
   * back alone if `work` throws. `mustSync`, asked after `work`, says whether the turn must sync.
   */
  pass<T>(work: () => T, mustSync: () => boolean): T {
    assert(!this.inPass, "passes do not nest");
    if (!this.turnOpen) this.openTurn();
    this.inPass = true;
    this.database.execute("SAVEPOINT pass");
    let result: T;
    try {
      result = work();
      this.database.execute("RELEASE pass");
    } catch (error) {
      this.database.execute("ROLLBACK TO pass; RELEASE pass");
      throw error;
    } finally {
      this.inPass = false;
    }
    this.counters.passes++;
    if (mustSync()) this.mustSync = true;
    return result;
  }

  /** Whether a turn is open: some writes are not yet committed and synced. */
  get pending(): boolean {
    return this.turnOpen;
  }

  /** Runs `callback` once everything written so far is durable: now, or when the open turn ends. */
  afterTurn(callback: () => void): void {
    if (this.turnOpen) this.afterSync.push(callback);
    else callback();
  }

  /** Resolves once everything written so far is durable (the output gate of answers). */
  whenSynced(): Promise<void> {
    if (!this.turnOpen) return Promise.resolve();
    return new Promise((resolve) => this.afterSync.push(resolve));
  }

  /**
   * Resolves one macrotask after the open turn ends (or after this one when none is open), all
   * waiters together: the leaders' waiting proposals of every group then run in one macrotask
   * and share one turn and one sync (ReplicaRuntimeOptions.whenDurable).
   */
  whenDurable(): Promise<void> {
    return new Promise((resolve) => {
      this.durableWaiters.push(resolve);
      if (!this.turnOpen) this.armDurableTimer();
    });
  }

  /** Ends the open turn: COMMIT, fdatasync of the WAL when a pass must sync, then the held outputs. */
  flush(): void {
    if (!this.turnOpen) return;
    assert(!this.inPass, "a turn ends between passes");
    this.database.execute("COMMIT");
    this.turnOpen = false;
    this.counters.turns++;
    if (this.mustSync) {
      this.database.syncWal();
      this.counters.syncs++;
      this.mustSync = false;
    }
    const callbacks = this.afterSync;
    this.afterSync = [];
    for (const callback of callbacks) callback();
    if (this.durableWaiters.length > 0) this.armDurableTimer();
  }

  /** Every replica scope that has an identity row, with that row's JSON. */
  identities(): { scope: string; identity: string }[] {
    return this.database
      .exec("SELECT scope, value FROM raft_state WHERE name = 'identity'")
      .toArray()
      .map((row) => ({ scope: String(row.scope), identity: String(row.value) }));
  }

  /** Ends the open turn and closes the file; the object must not be used afterwards. */
  close(): void {
    this.flush();
    if (this.durableTimer !== undefined) clearTimeout(this.durableTimer);
    this.database.close();
  }

  private openTurn(): void {
    this.database.execute("BEGIN IMMEDIATE");
    this.turnOpen = true;
    // A failed COMMIT or sync throws inside this microtask and ends the process (fail-stop, as
    // etcd panics on a WAL write error): nothing of the turn was acknowledged.
    queueMicrotask(() => this.flush());
  }

  private armDurableTimer(): void {
    if (this.durableTimer !== undefined) return;
    this.durableTimer = setTimeout(() => {
      this.durableTimer = undefined;
      const waiters = this.durableWaiters;
      this.durableWaiters = [];
      for (const resolve of waiters) resolve();
    }, 0);
  }
}
