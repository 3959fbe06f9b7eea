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
import { blob, textOfBlob, type SqlRunner } from "./schema.ts";

/** KvStore over SQLite. */
export class SqliteKvStore implements KvStore {
  private readonly sql: SqlRunner;

  constructor(sql: SqlRunner) {
    this.sql = sql;
  }

  get(key: string): KvRecord | undefined {
    const row = this.sql.exec("SELECT value, version FROM kv WHERE key = ?", key).toArray()[0];
    return row === undefined ? undefined : { value: blob(row.value).slice(), version: Number(row.version) };
  }

  set(key: string, record: KvRecord): void {
    this.sql.exec(
      "INSERT INTO kv (key, value, version) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version",
      key,
      record.value,
      record.version,
    );
  }

  delete(key: string): boolean {
    return this.sql.exec("DELETE FROM kv WHERE key = ?", key).rowsWritten > 0;
  }

  scan(range: ScanRange, limit: number): KvEntry[] {
    const lower = scanLowerBoundOf(range);
    const rows =
      lower === undefined
        ? this.sql.exec("SELECT CAST(kv.key AS BLOB) AS key_bytes, value, version FROM kv ORDER BY kv.key LIMIT ?", limit)
        : this.sql.exec("SELECT CAST(kv.key AS BLOB) AS key_bytes, value, version FROM kv WHERE kv.key >= ? ORDER BY kv.key LIMIT ?", lower, limit);
    const entries: KvEntry[] = [];
    for (const row of rows) {
      const key = textOfBlob(row.key_bytes);
      if (keyIsPastRange(key, range)) break;
      entries.push({ key, value: blob(row.value).slice(), version: Number(row.version) });
    }
    return entries;
  }

  count(): number {
    return Number(this.sql.exec("SELECT COUNT(*) AS n FROM kv").toArray()[0]?.n ?? 0);
  }

  clear(): void {
    this.sql.exec("DELETE FROM kv");
  }

  /**
   * The state machine's counters stored beside the records (KvStateMachine's resume), if any. A
   * blob written before kv_session existed also holds the sessions; the state machine reads them.
   */
  readMeta(): Uint8Array | undefined {
    const row = this.sql.exec("SELECT data FROM kv_meta WHERE id = 1").toArray()[0];
    return row === undefined ? undefined : blob(row.data).slice();
  }

  /** Every stored session row (KvStateMachine's resumeSessions), in no particular order. */
  readSessions(): StoredSession[] {
    const sessions: StoredSession[] = [];
    for (const row of this.sql.exec("SELECT client_id, ord, last_seq, last_used_ms, result FROM kv_session")) {
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
    this.sql.exec("INSERT INTO kv_meta (id, data) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data", changes.counters);
    if (changes.replaceAll) this.sql.exec("DELETE FROM kv_session");
    for (const clientId of changes.deletes) this.sql.exec("DELETE FROM kv_session WHERE client_id = ?", clientId);
    for (const session of changes.upserts) {
      this.sql.exec(
        "INSERT INTO kv_session (client_id, ord, last_seq, last_used_ms, result) VALUES (?, ?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET ord = excluded.ord, last_seq = excluded.last_seq, last_used_ms = excluded.last_used_ms, result = excluded.result",
        session.clientId,
        session.order,
        session.lastSeq,
        session.lastUsedMs,
        JSON.stringify(session.result),
      );
    }
  }
}
