/**
 * The KV state machine's store on a replica's SQLite (a Durable Object's, or node:sqlite on Deno).
 * TEXT keys compare by their UTF-8 bytes (SQLite's BINARY collation), which is the order
 * compareKeys defines. The state machine's metadata is written with the records, in the same
 * transaction: its counters (applied index, version counter, clock) in kv_meta, and its client
 * sessions one row per client in kv_session, only the rows that changed.
 */
import type { ApplyResult } from "../../../kv/result.ts";
import type { StoredSession } from "../../../kv/sessions.ts";
import type { MetaChanges } from "../../../kv/state-machine.ts";
import { keyIsPastRange, scanLowerBoundOf, type KvEntry, type KvRecord, type KvStore, type ScanRange } from "../../../kv/store.ts";
import { blob, ScopedStatements, textOfBlob, type SqlRunner } from "./schema.ts";

const sessionColumns = "client_id, ord, last_seq, last_used_ms, result";
const sessionUpdate = "ord = excluded.ord, last_seq = excluded.last_seq, last_used_ms = excluded.last_used_ms, result = excluded.result";

/** The KV store's statements in a replica's own database and in a shared one (schema.ts). */
const kvStatements = {
  own: {
    get: "SELECT value, version FROM kv WHERE key = ?",
    set: "INSERT INTO kv (key, value, version) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version",
    delete: "DELETE FROM kv WHERE key = ?",
    scanAll: "SELECT CAST(kv.key AS BLOB) AS key_bytes, value, version FROM kv ORDER BY kv.key LIMIT ?",
    scanFrom: "SELECT CAST(kv.key AS BLOB) AS key_bytes, value, version FROM kv WHERE kv.key >= ? ORDER BY kv.key LIMIT ?",
    count: "SELECT COUNT(*) AS n FROM kv",
    size: "SELECT COUNT(*) AS keys, COALESCE(SUM(LENGTH(key) + LENGTH(value)), 0) AS bytes FROM kv",
    clear: "DELETE FROM kv",
    readMeta: "SELECT data FROM kv_meta WHERE id = 1",
    writeMeta: "INSERT INTO kv_meta (id, data) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
    readSessions: `SELECT ${sessionColumns} FROM kv_session`,
    deleteSessions: "DELETE FROM kv_session",
    deleteSession: "DELETE FROM kv_session WHERE client_id = ?",
    writeSession: `INSERT INTO kv_session (${sessionColumns}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET ${sessionUpdate}`,
  },
  shared: {
    get: "SELECT value, version FROM kv WHERE scope = ? AND key = ?",
    set: "INSERT INTO kv (scope, key, value, version) VALUES (?, ?, ?, ?) ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, version = excluded.version",
    delete: "DELETE FROM kv WHERE scope = ? AND key = ?",
    scanAll: "SELECT CAST(kv.key AS BLOB) AS key_bytes, value, version FROM kv WHERE kv.scope = ? ORDER BY kv.key LIMIT ?",
    scanFrom: "SELECT CAST(kv.key AS BLOB) AS key_bytes, value, version FROM kv WHERE kv.scope = ? AND kv.key >= ? ORDER BY kv.key LIMIT ?",
    count: "SELECT COUNT(*) AS n FROM kv WHERE scope = ?",
    size: "SELECT COUNT(*) AS keys, COALESCE(SUM(LENGTH(key) + LENGTH(value)), 0) AS bytes FROM kv WHERE scope = ?",
    clear: "DELETE FROM kv WHERE scope = ?",
    readMeta: "SELECT data FROM kv_meta WHERE scope = ?",
    writeMeta: "INSERT INTO kv_meta (scope, data) VALUES (?, ?) ON CONFLICT (scope) DO UPDATE SET data = excluded.data",
    readSessions: `SELECT ${sessionColumns} FROM kv_session WHERE scope = ?`,
    deleteSessions: "DELETE FROM kv_session WHERE scope = ?",
    deleteSession: "DELETE FROM kv_session WHERE scope = ? AND client_id = ?",
    writeSession: `INSERT INTO kv_session (scope, ${sessionColumns}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope, client_id) DO UPDATE SET ${sessionUpdate}`,
  },
};

/** KvStore over SQLite; with a `scope`, one replica's view of a database many replicas share (a Deno node's). */
export class SqliteKvStore implements KvStore {
  private readonly sql: ScopedStatements<keyof typeof kvStatements.own>;

  constructor(sql: SqlRunner, scope?: string) {
    this.sql = new ScopedStatements(sql, scope, kvStatements);
  }

  get(key: string): KvRecord | undefined {
    const row = this.sql.exec("get", key).toArray()[0];
    return row === undefined ? undefined : { value: blob(row.value).slice(), version: Number(row.version) };
  }

  set(key: string, record: KvRecord): void {
    this.sql.exec("set", key, record.value, record.version);
  }

  delete(key: string): boolean {
    return this.sql.exec("delete", key).rowsWritten > 0;
  }

  scan(range: ScanRange, limit: number): KvEntry[] {
    const lower = scanLowerBoundOf(range);
    const rows =
      lower === undefined
        ? this.sql.exec("scanAll", limit)
        : this.sql.exec("scanFrom", lower, limit);
    const entries: KvEntry[] = [];
    for (const row of rows) {
      const key = textOfBlob(row.key_bytes);
      if (keyIsPastRange(key, range)) break;
      entries.push({ key, value: blob(row.value).slice(), version: Number(row.version) });
    }
    return entries;
  }

  count(): number {
    return Number(this.sql.exec("count").toArray()[0]?.n ?? 0);
  }

  /** Keys stored and their bytes (keys plus values): what a leader's load report measures. */
  size(): { keys: number; bytes: number } {
    const row = this.sql.exec("size").toArray()[0];
    return { keys: Number(row?.keys ?? 0), bytes: Number(row?.bytes ?? 0) };
  }

  clear(): void {
    this.sql.exec("clear");
  }

  /**
   * The state machine's counters stored beside the records (KvStateMachine's resume), if any. A
   * blob written before kv_session existed also holds the sessions; the state machine reads them.
   */
  readMeta(): Uint8Array | undefined {
    const row = this.sql.exec("readMeta").toArray()[0];
    return row === undefined ? undefined : blob(row.data).slice();
  }

  /** Every stored session row (KvStateMachine's resumeSessions), in no particular order. */
  readSessions(): StoredSession[] {
    const sessions: StoredSession[] = [];
    for (const row of this.sql.exec("readSessions")) {
      sessions.push({
        clientId: String(row.client_id),
        order: Number(row.ord),
        lastSeq: Number(row.last_seq),
        lastUsedMs: Number(row.last_used_ms),
        result: JSON.parse(String(row.result)) as ApplyResult,
      });
    }
    return sessions;
  }

  /** Writes what changed since the last write: the counters row, then the changed session rows. */
  writeMeta(changes: MetaChanges): void {
    this.sql.exec("writeMeta", changes.counters);
    if (changes.replaceAll) this.sql.exec("deleteSessions");
    for (const clientId of changes.deletes) this.sql.exec("deleteSession", clientId);
    for (const session of changes.upserts) {
      this.sql.exec(
        "writeSession",
        session.clientId,
        session.order,
        session.lastSeq,
        session.lastUsedMs,
        JSON.stringify(session.result),
      );
    }
  }
}
