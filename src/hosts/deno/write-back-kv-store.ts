/**
 * A Deno replica's KV state machine store, written back to the node's SQLite in batches (etcd
 * commits its bbolt state every 100 ms, not per entry). The records an apply changes wait here,
 * and reads see them (the counters and sessions wait in the state machine, which hands over the
 * changed ones at the flush); `flush` writes them inside a driver pass, between applies. The
 * replica (node-replica.ts) flushes when a batch is due, when much waits, when its group goes
 * quiet, before a snapshot is taken, and whenever the log no longer holds every entry after the
 * state on disk (below).
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
  /** Bytes of the keys and values waiting (the replica flushes past a bound). */
  private pendingBytesValue = 0;
  /** Entries were applied (or a snapshot restored) since the last flush: the counters and sessions must be written too. */
  private metaWaiting = false;

  constructor(inner: SqliteKvStore) {
    this.inner = inner;
  }

  /** How many keys wait to be written (the replica flushes past a bound). */
  get pendingKeys(): number {
    return this.records.size;
  }

  /** Bytes of keys and values waiting to be written. */
  get pendingBytes(): number {
    return this.pendingBytesValue;
  }

  /** Whether anything waits to be written. */
  get pending(): boolean {
    return this.records.size > 0 || this.metaWaiting || this.cleared;
  }

  /** The state machine applied entries: its counters and sessions wait to be written with the records. */
  noteApplied(): void {
    this.metaWaiting = true;
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
    this.pendingBytesValue += key.length + record.value.byteLength;
  }

  delete(key: string): boolean {
    if (this.cleared) return this.inner.delete(key);
    const existed = this.get(key) !== undefined;
    this.records.set(key, null);
    this.pendingBytesValue += key.length;
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

  /** Keys and bytes as of the last flush: what a leader's load report measures (a busy group's lags one batch; a quiet group's is flushed). */
  size(): { keys: number; bytes: number } {
    return this.inner.size();
  }

  /**
   * Writes every waiting record and then `meta`, the state machine's counters and the sessions
   * changed since it last gave them (KvStateMachine.takeMetaChanges, taken now: the state machine
   * keeps the session changes until then); the caller runs it inside a driver pass, between applies.
   */
  flush(meta: MetaChanges): void {
    for (const [key, pending] of this.records) {
      if (pending === null) this.inner.delete(key);
      else this.inner.set(key, pending);
    }
    this.records.clear();
    this.pendingBytesValue = 0;
    this.cleared = false;
    this.metaWaiting = false;
    this.inner.writeMeta(meta);
  }
}
