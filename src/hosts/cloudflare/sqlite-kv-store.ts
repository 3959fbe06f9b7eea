/**
 * The KV state machine's store on a Durable Object's SQLite. TEXT keys compare by their UTF-8
 * bytes (SQLite's BINARY collation), which is the order compareKeys defines. The state machine's
 * metadata (versions, sessions, applied index) is kept in kv_meta, written with the records.
 */
import { keyIsPastRange, scanLowerBoundOf, type KvEntry, type KvRecord, type KvStore, type ScanRange } from "../../kv/store.ts";
import { blob, type SqlRunner } from "./schema.ts";

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
        ? this.sql.exec("SELECT key, value, version FROM kv ORDER BY key LIMIT ?", limit)
        : this.sql.exec("SELECT key, value, version FROM kv WHERE key >= ? ORDER BY key LIMIT ?", lower, limit);
    const entries: KvEntry[] = [];
    for (const row of rows) {
      const key = String(row.key);
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

  /** The state machine metadata stored beside the records, if any. */
  readMeta(): Uint8Array | undefined {
    const row = this.sql.exec("SELECT data FROM kv_meta WHERE id = 1").toArray()[0];
    return row === undefined ? undefined : blob(row.data).slice();
  }

  /** Replaces the state machine metadata. */
  writeMeta(data: Uint8Array): void {
    this.sql.exec("INSERT INTO kv_meta (id, data) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data", data);
  }
}
