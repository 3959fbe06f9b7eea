/**
 * One replica's SQLite file on a Deno node, through node:sqlite's DatabaseSync, offering the
 * SqlRunner surface the shared stores (hosts/common/sqlite) are written against.
 *
 * Durability, etcd's rule: a write that Raft relies on (new log entries, a snapshot, a new term or
 * vote) is on disk before the replica sends or answers anything that depends on it; a pass that
 * only moves the commit index or applies entries need not be, since a restart rebuilds both from
 * the log. So the file runs in WAL mode with synchronous=NORMAL (a commit is written to the WAL,
 * not synced), and transaction() fdatasyncs the WAL itself after COMMIT when the pass must sync.
 * WAL commits are ordered, so after a power cut the file holds a prefix of the transactions that
 * includes every synced one. synchronous=FULL would sync every pass, applying ones included: one
 * more fsync on every write's path (about 3 ms on this project's machine) for nothing Raft needs.
 * Group commit keeps the count down further: proposals that arrive while one pass runs share the
 * next transaction.
 */
import { closeSync, fdatasync, fdatasyncSync, openSync } from "node:fs";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { assert } from "../../shared/assert.ts";
import { migrate, migrations, type Migration, type SqlRunner } from "../common/sqlite/schema.ts";

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
  /** A read-only descriptor of the WAL file, opened after the first commit created it. */
  private walDescriptor: number | undefined;
  /** How many times the WAL was synced (tests and statistics). */
  walSyncs = 0;

  /**
   * Opens (creating if needed) the file at `path`, or an in-memory database for ":memory:", with
   * the schema `list` (one replica's by default; a node's shared one: schema.ts sharedMigrations).
   */
  constructor(path: string, list: readonly Migration[] = migrations) {
    this.path = path;
    this.database = new DatabaseSync(path);
    this.database.exec("PRAGMA journal_mode = WAL");
    this.database.exec("PRAGMA synchronous = NORMAL");
    migrate(this, list);
  }

  /** Runs statements that take no bindings and return no rows (transaction control). */
  execute(statements: string): void {
    this.database.exec(statements);
  }

  exec(query: string, ...bindings: unknown[]): Rows {
    const prepared = this.prepare(query);
    const values = bindings as (string | number | Uint8Array | null)[];
    if (prepared.returnsRows) return new Rows(prepared.statement.all(...values) as Record<string, unknown>[], 0);
    const result = prepared.statement.run(...values);
    return new Rows([], Number(result.changes));
  }

  /**
   * Runs `work` in one transaction: committed when it returns, rolled back when it throws. When
   * `mustSync` (asked after `work`) says so, the WAL is fdatasynced before this returns.
   */
  transaction<T>(work: () => T, mustSync: () => boolean = () => true): T {
    assert(!this.inTransaction, "transactions do not nest");
    this.inTransaction = true;
    this.database.exec("BEGIN IMMEDIATE");
    let result: T;
    try {
      result = work();
      this.database.exec("COMMIT");
    } catch (error) {
      this.database.exec("ROLLBACK");
      throw error;
    } finally {
      this.inTransaction = false;
    }
    if (mustSync()) this.syncWal();
    return result;
  }

  /** Makes every committed transaction durable: fdatasync of the WAL file. */
  syncWal(): void {
    if (this.path === ":memory:") return;
    this.walDescriptor ??= openSync(`${this.path}-wal`, "r");
    fdatasyncSync(this.walDescriptor);
    this.walSyncs++;
  }

  /**
   * Makes every transaction committed so far durable without blocking the event loop (fdatasync of
   * the WAL on a worker thread); `done` runs once it is, with the error if it failed.
   */
  syncWalInBackground(done: (error: Error | null) => void): void {
    if (this.path === ":memory:") return queueMicrotask(() => done(null));
    this.walDescriptor ??= openSync(`${this.path}-wal`, "r");
    fdatasync(this.walDescriptor, (error) => {
      if (error === null) this.walSyncs++;
      done(error);
    });
  }

  /** Closes the file; the object must not be used afterwards. */
  close(): void {
    this.statements.clear();
    if (this.walDescriptor !== undefined) closeSync(this.walDescriptor);
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
