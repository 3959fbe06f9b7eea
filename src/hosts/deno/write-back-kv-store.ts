/**
 * A Deno replica's KV state machine store, written back to the node's SQLite in batches (etcd
 * commits its bbolt state every 100 ms, not per entry). The records, counters and sessions an
 * apply changes wait here, and reads see them; `flush` writes them inside a driver pass, and the
 * replica flushes when a batch is due, when it is large, and whenever the log no longer holds
 * every entry after the state on disk (below).
 *
 * Why this keeps every acknowledged write: the state machine is a function of the log. An entry is
 * applied only once committed, and committed entries are in this node's synced log (or, on a
 * follower that applied them in an unsynced turn, in the same commit of the WAL as the write-back
 * that holds them or an earlier one, which a crash keeps if it keeps that write-back). The state on disk is the state as of its own applied
 * index, written whole in one pass; after a crash the engine replays the log from its first index
 * and the state machine skips the entries it has (replica-runtime.ts), so the entries applied
 * since the last flush are applied again from the log. This holds only while the log still has
 * them: so a pass that compacts the log past the state on disk (a snapshot taken, or one installed
 * from the leader) flushes in that same pass, and the node's invariant is
 *   flushed applied index >= log's first index - 1.
 *
 * Why a batch costs less: a COMMIT writes every page it dirtied to the WAL (about 10 us of CPU
 * per 4 KiB page here), and the writes of a batch share pages: the counters row, the few session
 * rows of busy clients, and the leaves of hot keys. Only the state is batched; the log is still
 * committed and synced as before.
 */
import type { MetaChanges } from "../../kv/state-machine.ts";
import type { StoredSession } from "../../kv/sessions.ts";
import { compareKeys } from "../../kv/key-order.ts";
import { keyIsPastRange, scanLowerBoundOf, type KvEntry, type KvRecord, type KvStore, type ScanRange } from "../../kv/store.ts";
import type { SqliteKvStore } from "../common/sqlite/sqlite-kv-store.ts";

/** The record written at a key since the last flush; null for a delete. */
type Pending = KvRecord | null;

/** A KvStore that keeps changes in memory until `flush` writes them to its SQLite store. */
export class WriteBackKvStore implements KvStore {
  private readonly inner: SqliteKvStore;
  private readonly records = new Map<string, Pending>();
  /**
   * The store was cleared since the last flush (a snapshot is being installed): writes go straight
   * to SQLite until the flush that must end the pass (`mustFlush`), so a large snapshot is not
   * held in memory twice.
   */
  private cleared = false;
  /** The newest counters not yet written, and the session rows changed since the last write. */
  private counters: Uint8Array | undefined;
  private sessionsReplaced = false;
  private readonly sessions = new Map<string, StoredSession | null>();

  constructor(inner: SqliteKvStore) {
    this.inner = inner;
  }

  /** How many keys wait to be written (the replica flushes past a bound). */
  get pendingKeys(): number {
    return this.records.size;
  }

  /** Whether anything waits to be written. */
  get pending(): boolean {
    return this.records.size > 0 || this.counters !== undefined || this.cleared;
  }

  /** The store was cleared in this pass: the pass must flush before it ends (the rows on disk match no counters). */
  get mustFlush(): boolean {
    return this.cleared;
  }

  get(key: string): KvRecord | undefined {
    const pending = this.records.get(key);
    if (pending === undefined) return this.inner.get(key);
    return pending === null ? undefined : { value: pending.value.slice(), version: pending.version };
  }

  set(key: string, record: KvRecord): void {
    if (this.cleared) return this.inner.set(key, record);
    this.records.set(key, { value: record.value.slice(), version: record.version });
  }

  delete(key: string): boolean {
    if (this.cleared) return this.inner.delete(key);
    const existed = this.get(key) !== undefined;
    this.records.set(key, null);
    return existed;
  }

  /**
   * The SQLite page merged with the changes in range. The page is read longer by the number of
   * deletes waiting in range: then, when it comes back full, at least `limit` of its rows are
   * live, so the merge fills the page before it passes the last row read, beyond which a waiting
   * set could otherwise overtake rows not read.
   */
  scan(range: ScanRange, limit: number): KvEntry[] {
    const lower = scanLowerBoundOf(range);
    const changes: [string, Pending][] = [];
    let deletes = 0;
    for (const [key, pending] of this.records) {
      if ((lower !== undefined && compareKeys(key, lower) < 0) || keyIsPastRange(key, range)) continue;
      changes.push([key, pending]);
      if (pending === null) deletes++;
    }
    if (changes.length === 0) return this.inner.scan(range, limit);
    changes.sort((a, b) => compareKeys(a[0], b[0]));
    const stored = this.inner.scan(range, limit + deletes);
    const entries: KvEntry[] = [];
    let s = 0;
    let c = 0;
    while (entries.length < limit) {
      const storedKey = stored[s]?.key;
      const changedKey = changes[c]?.[0];
      if (storedKey === undefined && changedKey === undefined) break;
      const order = storedKey === undefined ? 1 : changedKey === undefined ? -1 : compareKeys(storedKey, changedKey);
      if (order < 0) {
        entries.push(stored[s++]!);
        continue;
      }
      if (order === 0) s++; // the change replaces the stored row
      const [key, pending] = changes[c++]!;
      if (pending !== null) entries.push({ key, value: pending.value.slice(), version: pending.version });
    }
    return entries;
  }

  count(): number {
    let count = this.inner.count();
    for (const [key, pending] of this.records) {
      const stored = this.inner.get(key) !== undefined;
      if (pending !== null && !stored) count++;
      if (pending === null && stored) count--;
    }
    return count;
  }

  /** Empties the store now, on disk too (a snapshot is being installed, inside a pass); writes go to disk until the flush. */
  clear(): void {
    this.records.clear();
    this.inner.clear();
    this.cleared = true;
  }

  /** Keys and bytes as of the last flush: what a leader's load report measures (it may lag one batch). */
  size(): { keys: number; bytes: number } {
    return this.inner.size();
  }

  /** Takes the state machine's counters and session changes, to write with the records at the next flush. */
  writeMeta(changes: MetaChanges): void {
    this.counters = changes.counters;
    if (changes.replaceAll) {
      this.sessionsReplaced = true;
      this.sessions.clear();
    }
    for (const clientId of changes.deletes) this.sessions.set(clientId, null);
    for (const session of changes.upserts) this.sessions.set(session.clientId, session);
  }

  /** Writes every pending change to SQLite; the caller runs it inside a driver pass. */
  flush(): void {
    for (const [key, pending] of this.records) {
      if (pending === null) this.inner.delete(key);
      else this.inner.set(key, pending);
    }
    this.records.clear();
    this.cleared = false;
    if (this.counters === undefined) return;
    const deletes: string[] = [];
    const upserts: StoredSession[] = [];
    for (const [clientId, session] of this.sessions) {
      if (session === null) deletes.push(clientId);
      else upserts.push(session);
    }
    this.inner.writeMeta({ counters: this.counters, replaceAll: this.sessionsReplaced, deletes, upserts });
    this.counters = undefined;
    this.sessionsReplaced = false;
    this.sessions.clear();
  }
}
