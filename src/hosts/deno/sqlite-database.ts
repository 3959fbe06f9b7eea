/**
 * One replica's SQLite file on a Deno node, through node:sqlite's DatabaseSync, offering the
 * SqlRunner surface the shared stores (hosts/common/sqlite) are written against.
 *
 * Durability: WAL journal with synchronous=FULL. In WAL mode FULL fsyncs the WAL at every commit,
 * so when transaction() returns the write is on disk; the replica runtime persists before it
 * sends or answers (the driver's Ready order), so nothing is acknowledged before its fsync, the
 * promise etcd makes by fsyncing its WAL before replying. NORMAL would sync only at checkpoints:
 * safe against a killed process, not against a power cut. Group commit keeps the fsync count
 * down: proposals that arrive while one is running share the next transaction.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { assert } from "../../shared/assert.ts";
import { migrate, type SqlRunner } from "../common/sqlite/schema.ts";

/** Prepared statements kept per database at most; past it the cache is dropped and refilled. */
const statementsCachedMax = 256;

/** Rows of one statement, shaped like a Durable Object's cursor. */
class Rows implements Iterable<Record<string, unknown>> {
  readonly rowsWritten: number;
  private readonly rows: Record<string, unknown>[];

  constructor(rows: Record<string, unknown>[], rowsWritten: number) {
    this.rows = rows;
    this.rowsWritten = rowsWritten;
  }

  [Symbol.iterator](): Iterator<Record<string, unknown>> {
    return this.rows[Symbol.iterator]();
  }

  toArray(): Record<string, unknown>[] {
    return this.rows;
  }
}

/** A replica's SQLite database: the schema migrated, statements cached, transactions explicit. */
export class SqliteDatabase implements SqlRunner {
  readonly path: string;
  private readonly database: DatabaseSync;
  private readonly statements = new Map<string, { statement: StatementSync; returnsRows: boolean }>();
  private inTransaction = false;

  /** Opens (creating if needed) the file at `path`, or an in-memory database for ":memory:". */
  constructor(path: string) {
    this.path = path;
    this.database = new DatabaseSync(path);
    this.database.exec("PRAGMA journal_mode = WAL");
    this.database.exec("PRAGMA synchronous = FULL");
    migrate(this);
  }

  exec(query: string, ...bindings: unknown[]): Rows {
    const prepared = this.prepare(query);
    const values = bindings as (string | number | Uint8Array | null)[];
    if (prepared.returnsRows) return new Rows(prepared.statement.all(...values) as Record<string, unknown>[], 0);
    const result = prepared.statement.run(...values);
    return new Rows([], Number(result.changes));
  }

  /** Runs `work` in one transaction: committed (and fsynced) when it returns, rolled back when it throws. */
  transaction<T>(work: () => T): T {
    assert(!this.inTransaction, "transactions do not nest");
    this.inTransaction = true;
    this.database.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.database.exec("COMMIT");
      return result;
    } catch (error) {
      this.database.exec("ROLLBACK");
      throw error;
    } finally {
      this.inTransaction = false;
    }
  }

  /** Closes the file; the object must not be used afterwards. */
  close(): void {
    this.statements.clear();
    this.database.close();
  }

  private prepare(query: string): { statement: StatementSync; returnsRows: boolean } {
    let prepared = this.statements.get(query);
    if (prepared === undefined) {
      if (this.statements.size >= statementsCachedMax) this.statements.clear();
      const statement = this.database.prepare(query);
      prepared = { statement, returnsRows: statement.columns().length > 0 };
      this.statements.set(query, prepared);
    }
    return prepared;
  }
}
