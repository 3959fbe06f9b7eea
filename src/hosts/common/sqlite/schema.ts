/**
 * The SQLite schema of one replica (a Durable Object's storage, or one node:sqlite file on a Deno
 * node), with migrations kept as data: numbered, applied in order once, never edited after release
 * (add a new one instead). The applied version lives in a table because Durable Objects do not
 * allow PRAGMA user_version.
 */

/** One schema step. */
export interface Migration {
  version: number;
  statements: string[];
}

/** Every migration, in order. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    statements: [
      "CREATE TABLE raft_log (idx INTEGER PRIMARY KEY, term INTEGER NOT NULL, kind INTEGER NOT NULL, data BLOB NOT NULL)",
      "CREATE TABLE raft_state (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
      "CREATE TABLE raft_snapshot_chunk (position INTEGER PRIMARY KEY, data BLOB NOT NULL)",
      "CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID",
      "CREATE TABLE kv_meta (id INTEGER PRIMARY KEY CHECK (id = 1), data BLOB NOT NULL)",
    ],
  },
  {
    // Client sessions, one row per client, written only when they change. They were inside the
    // kv_meta blob before: a replica reopening such a blob writes them as rows at its next persist.
    // `ord` rebuilds the least-recently-used order on reopen; `result` is the cached result as JSON.
    version: 2,
    statements: [
      "CREATE TABLE kv_session (client_id TEXT PRIMARY KEY, ord INTEGER NOT NULL, last_seq INTEGER NOT NULL, last_used_ms INTEGER NOT NULL, result TEXT NOT NULL) WITHOUT ROWID",
    ],
  },
  {
    // Counts of what costs a replica something (object starts, alarms, Raft batches and messages
    // received), kept across hibernation so that the cost of an idle group can be measured.
    version: 3,
    statements: ["CREATE TABLE replica_events (name TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID"],
  },
];

/**
 * The schema of a database shared by many replicas (a Deno node's one file): the same tables, each
 * with a leading `scope` column that names the replica owning the row (`<group>/<replica>`), so
 * one transaction and one WAL sync can cover every group's writes on the node.
 */
export const sharedMigrations: readonly Migration[] = [
  {
    version: 1,
    statements: [
      "CREATE TABLE raft_log (scope TEXT NOT NULL, idx INTEGER NOT NULL, term INTEGER NOT NULL, kind INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (scope, idx)) WITHOUT ROWID",
      "CREATE TABLE raft_state (scope TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (scope, name)) WITHOUT ROWID",
      "CREATE TABLE raft_snapshot_chunk (scope TEXT NOT NULL, position INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (scope, position))",
      "CREATE TABLE kv (scope TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (scope, key)) WITHOUT ROWID",
      "CREATE TABLE kv_meta (scope TEXT PRIMARY KEY, data BLOB NOT NULL)",
      "CREATE TABLE kv_session (scope TEXT NOT NULL, client_id TEXT NOT NULL, ord INTEGER NOT NULL, last_seq INTEGER NOT NULL, last_used_ms INTEGER NOT NULL, result TEXT NOT NULL, PRIMARY KEY (scope, client_id)) WITHOUT ROWID",
    ],
  },
  {
    // The node that made the database and its cluster's node ids (JSON), checked at every start (hosts/deno/node-identity.ts).
    version: 2,
    statements: ["CREATE TABLE node_identity (id INTEGER PRIMARY KEY CHECK (id = 1), node INTEGER NOT NULL, nodes TEXT NOT NULL)"],
  },
];

/**
 * Runs a store's statements in one of two layouts: a database of its own (`scope` undefined) or
 * its rows of a shared database, where every statement's first binding is the scope.
 */
export class ScopedStatements<Name extends string> {
  private readonly sql: SqlRunner;
  private readonly scope: string | undefined;
  private readonly statements: Record<Name, string>;

  constructor(sql: SqlRunner, scope: string | undefined, layouts: { own: Record<Name, string>; shared: Record<Name, string> }) {
    this.sql = sql;
    this.scope = scope;
    this.statements = scope === undefined ? layouts.own : layouts.shared;
  }

  /** Runs statement `name` with `bindings` (after the scope, in a shared database). */
  exec(name: Name, ...bindings: unknown[]): ReturnType<SqlRunner["exec"]> {
    const query = this.statements[name];
    return this.scope === undefined ? this.sql.exec(query, ...bindings) : this.sql.exec(query, this.scope, ...bindings);
  }
}

/** The minimal SQL surface the stores need (ctx.storage.sql on a Durable Object; an adapter over node:sqlite on Deno). */
export interface SqlRunner {
  exec(query: string, ...bindings: unknown[]): Iterable<Record<string, unknown>> & {
    toArray(): Record<string, unknown>[];
    readonly rowsWritten: number;
  };
}

/** Brings the schema up to the newest of `list` (a replica's own database by default); returns the version now in force. */
export function migrate(sql: SqlRunner, list: readonly Migration[] = migrations): number {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
  const row = sql.exec("SELECT version FROM schema_version WHERE id = 1").toArray()[0];
  let current = row === undefined ? 0 : Number(row.version);
  for (const migration of list) {
    if (migration.version <= current) continue;
    for (const statement of migration.statements) sql.exec(statement);
    sql.exec("INSERT INTO schema_version (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version", migration.version);
    current = migration.version;
  }
  return current;
}

/** Bytes of a BLOB column as a Uint8Array (Durable Objects return ArrayBuffer, node:sqlite Uint8Array). */
export function blob(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new Error(`expected a BLOB, got ${typeof value}`);
}

/**
 * A TEXT column read as `CAST(column AS BLOB)`, decoded as UTF-8: node:sqlite cuts TEXT values at
 * the first NUL character when it reads them, and keys may contain NUL.
 */
export function textOfBlob(value: unknown): string {
  return utf8.decode(blob(value));
}

const utf8 = new TextDecoder();
