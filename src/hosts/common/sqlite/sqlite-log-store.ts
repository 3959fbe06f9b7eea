/**
 * The engine's LogStore on a replica's SQLite (a Durable Object's, or node:sqlite on Deno): entries
 * in raft_log, hard state and snapshot metadata in raft_state, snapshot bytes in
 * raft_snapshot_chunk (rows stay under the 2 MB limit).
 * It does not open transactions itself: the replica runtime wraps each driver pass in one.
 */
import { assert } from "../../../shared/assert.ts";
import { concatBytes } from "../../../shared/bytes.ts";
import { emptyConfState, entryBytes, limitBytes, type LogStore, type LogWrite } from "../../../raft/storage.ts";
import type { ConfState, Entry, HardState, Index, Snapshot, SnapshotMeta, Term } from "../../../raft/types.ts";
import { blob, ScopedStatements, type SqlRunner } from "./schema.ts";

/** Largest snapshot chunk row, in bytes. */
const snapshotRowBytesMax = 1024 * 1024;
/**
 * The newest entries are kept in memory, up to this many and this many bytes (and a quarter more
 * between two trims): a leader reads them right back to send them to its followers, and the engine
 * asks for their terms on every append.
 */
const tailEntriesMax = 4096;
const tailBytesMax = 8 * 1024 * 1024;

/** The log store's statements in a replica's own database and in a shared one (schema.ts). */
const logStatements = {
  own: {
    last: "SELECT MAX(idx) AS last FROM raft_log",
    term: "SELECT term FROM raft_log WHERE idx = ?",
    entries: "SELECT idx, term, kind, data FROM raft_log WHERE idx >= ? AND idx < ? ORDER BY idx",
    deleteThrough: "DELETE FROM raft_log WHERE idx <= ?",
    deleteFrom: "DELETE FROM raft_log WHERE idx >= ?",
    deleteAll: "DELETE FROM raft_log",
    insert: "INSERT INTO raft_log (idx, term, kind, data) VALUES (?, ?, ?, ?)",
    chunks: "SELECT data FROM raft_snapshot_chunk ORDER BY position",
    deleteChunks: "DELETE FROM raft_snapshot_chunk",
    insertChunk: "INSERT INTO raft_snapshot_chunk (position, data) VALUES (?, ?)",
    readState: "SELECT value FROM raft_state WHERE name = ?",
    writeState: "INSERT INTO raft_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
  },
  shared: {
    last: "SELECT MAX(idx) AS last FROM raft_log WHERE scope = ?",
    term: "SELECT term FROM raft_log WHERE scope = ? AND idx = ?",
    entries: "SELECT idx, term, kind, data FROM raft_log WHERE scope = ? AND idx >= ? AND idx < ? ORDER BY idx",
    deleteThrough: "DELETE FROM raft_log WHERE scope = ? AND idx <= ?",
    deleteFrom: "DELETE FROM raft_log WHERE scope = ? AND idx >= ?",
    deleteAll: "DELETE FROM raft_log WHERE scope = ?",
    insert: "INSERT INTO raft_log (scope, idx, term, kind, data) VALUES (?, ?, ?, ?, ?)",
    chunks: "SELECT data FROM raft_snapshot_chunk WHERE scope = ? ORDER BY position",
    deleteChunks: "DELETE FROM raft_snapshot_chunk WHERE scope = ?",
    insertChunk: "INSERT INTO raft_snapshot_chunk (scope, position, data) VALUES (?, ?, ?)",
    readState: "SELECT value FROM raft_state WHERE scope = ? AND name = ?",
    writeState: "INSERT INTO raft_state (scope, name, value) VALUES (?, ?, ?) ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value",
  },
};

/**
 * LogStore over SQLite; caches what the engine asks for most (bounds, hard state, snapshot). With
 * a `scope` it is one replica's view of a database many replicas share (a Deno node's).
 */
export class SqliteLogStore implements LogStore {
  private readonly sql: ScopedStatements<keyof typeof logStatements.own>;
  private hardState: HardState;
  private snapshotMeta: SnapshotMeta;
  private snapshotData: Uint8Array | undefined;
  private last: Index;
  /** The entries [tailFirst, last], a suffix of the log; empty when unknown. */
  private tail: Entry[] = [];
  private tailFirst: Index = 1;
  private tailBytes = 0;

  constructor(sql: SqlRunner, scope?: string) {
    this.sql = new ScopedStatements(sql, scope, logStatements);
    this.hardState = this.readJson<HardState>("hardState") ?? { term: 0, vote: 0, commit: 0 };
    this.snapshotMeta = this.readJson<SnapshotMeta>("snapshotMeta") ?? { index: 0, term: 0, conf: emptyConfState() };
    const row = this.sql.exec("last").toArray()[0];
    this.last = row?.last === null || row?.last === undefined ? this.snapshotMeta.index : Number(row.last);
  }

  initialState(): { hardState: HardState; conf: ConfState } {
    return { hardState: { ...this.hardState }, conf: structuredClone(this.snapshotMeta.conf) };
  }

  firstIndex(): Index {
    return this.snapshotMeta.index + 1;
  }

  lastIndex(): Index {
    return this.last;
  }

  term(index: Index): Term | null {
    if (index === this.snapshotMeta.index) return this.snapshotMeta.term;
    if (index < this.snapshotMeta.index || index > this.last) return null;
    if (index >= this.tailFirst && this.tail.length > 0) return this.tail[index - this.tailFirst]!.term;
    const row = this.sql.exec("term", index).toArray()[0];
    assert(row !== undefined, `entry ${index} is missing inside the log`);
    return Number(row.term);
  }

  entries(low: Index, high: Index, bytesMax: number): Entry[] {
    assert(low >= this.firstIndex() && high <= this.last + 1 && low <= high, () => `entries [${low}, ${high}) unavailable`);
    if (low >= this.tailFirst && this.tail.length > 0) return limitBytes(this.tail.slice(low - this.tailFirst, high - this.tailFirst), bytesMax);
    const result: Entry[] = [];
    let total = 0;
    for (const row of this.sql.exec("entries", low, high)) {
      const entry: Entry = { index: Number(row.idx), term: Number(row.term), type: row.kind === 1 ? "confChange" : "normal", data: blob(row.data) };
      total += entry.data.byteLength + 16;
      if (total > bytesMax && result.length > 0) break;
      result.push(entry);
    }
    assert(result.length === high - low || total > bytesMax, "the log has no holes");
    return limitBytes(result, bytesMax);
  }

  snapshot(): Snapshot {
    if (this.snapshotData === undefined) {
      const chunks = this.sql.exec("chunks").toArray().map((row) => blob(row.data));
      this.snapshotData = concatBytes(chunks);
    }
    return { meta: this.snapshotMeta, data: this.snapshotData };
  }

  save(write: LogWrite): void {
    if (write.snapshot !== null) this.installSnapshot(write.snapshot);
    if (write.entries.length > 0) this.append(write.entries);
    if (write.hardState !== null) {
      assert(write.hardState.commit >= this.hardState.commit || write.snapshot !== null, "commit never goes back");
      this.hardState = { ...write.hardState };
      this.writeJson("hardState", this.hardState);
    }
  }

  compact(snapshot: Snapshot): void {
    const index = snapshot.meta.index;
    if (index <= this.snapshotMeta.index) return;
    assert(index <= this.last && this.term(index) === snapshot.meta.term, "compaction point is in the log");
    this.sql.exec("deleteThrough", index);
    this.storeSnapshot(snapshot);
    if (index >= this.tailFirst) this.trimTail(Math.min(index - this.tailFirst + 1, this.tail.length));
  }

  private installSnapshot(snapshot: Snapshot): void {
    const index = snapshot.meta.index;
    if (index <= this.snapshotMeta.index) return;
    if (this.term(index) === snapshot.meta.term) this.sql.exec("deleteThrough", index);
    else {
      this.sql.exec("deleteAll");
      this.last = index;
      this.dropTail();
    }
    this.storeSnapshot(snapshot);
    if (this.hardState.commit < index) {
      this.hardState = { ...this.hardState, commit: index };
      this.writeJson("hardState", this.hardState);
    }
  }

  private storeSnapshot(snapshot: Snapshot): void {
    this.sql.exec("deleteChunks");
    for (let offset = 0, position = 0; offset < snapshot.data.byteLength; offset += snapshotRowBytesMax, position++) {
      this.sql.exec("insertChunk", position, snapshot.data.subarray(offset, offset + snapshotRowBytesMax));
    }
    this.snapshotMeta = snapshot.meta;
    this.snapshotData = snapshot.data;
    this.writeJson("snapshotMeta", snapshot.meta);
    if (this.last < snapshot.meta.index) this.last = snapshot.meta.index;
  }

  private append(entries: Entry[]): void {
    const first = entries[0]!.index;
    assert(first > this.snapshotMeta.index && first <= this.last + 1, () => `append at ${first} outside (${this.snapshotMeta.index}, ${this.last + 1}]`);
    if (first <= this.last) this.sql.exec("deleteFrom", first);
    for (const entry of entries) {
      this.sql.exec("insert", entry.index, entry.term, entry.type === "normal" ? 0 : 1, entry.data);
    }
    this.last = entries[entries.length - 1]!.index;
    this.cacheTail(entries);
  }

  /** Keeps freshly appended entries (the log's new tail) in memory, within the cache's bounds. */
  private cacheTail(entries: Entry[]): void {
    const first = entries[0]!.index;
    const contiguous = this.tail.length > 0 && first >= this.tailFirst && first <= this.tailFirst + this.tail.length;
    if (!contiguous) this.dropTail();
    if (this.tail.length === 0) this.tailFirst = first;
    if (first - this.tailFirst < this.tail.length) {
      for (const dropped of this.tail.splice(first - this.tailFirst)) this.tailBytes -= entryBytes(dropped); // overwritten suffix
    }
    for (const entry of entries) {
      this.tail.push(entry);
      this.tailBytes += entryBytes(entry);
    }
    // Trimmed in steps, since trimming copies the array: the cache runs up to a quarter over its bounds.
    if (this.tail.length <= tailEntriesMax + tailEntriesMax / 4 && this.tailBytes <= tailBytesMax + tailBytesMax / 4) return;
    let excess = Math.max(0, this.tail.length - tailEntriesMax);
    let bytes = this.tailBytes;
    for (let i = 0; i < excess; i++) bytes -= entryBytes(this.tail[i]!);
    while (excess < this.tail.length - 1 && bytes > tailBytesMax) bytes -= entryBytes(this.tail[excess++]!);
    this.trimTail(excess);
  }

  /** Forgets the `count` oldest cached entries. */
  private trimTail(count: number): void {
    if (count <= 0) return;
    for (let i = 0; i < count; i++) this.tailBytes -= entryBytes(this.tail[i]!);
    this.tail = this.tail.slice(count);
    this.tailFirst += count;
  }

  private dropTail(): void {
    this.tail = [];
    this.tailBytes = 0;
  }

  private readJson<T>(name: string): T | undefined {
    const row = this.sql.exec("readState", name).toArray()[0];
    return row === undefined ? undefined : (JSON.parse(String(row.value)) as T);
  }

  private writeJson(name: string, value: unknown): void {
    this.sql.exec("writeState", name, JSON.stringify(value));
  }
}
