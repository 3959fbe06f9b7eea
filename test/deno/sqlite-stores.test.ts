/**
 * Runs the LogStore and KvStore conformance suites against the shared SQLite stores on node:sqlite
 * files, under the real Deno binary (vitest run by Deno: `npm run test:deno`): the same tests the
 * memory stores and the Durable Object stores pass, both in a replica's own file and as one
 * replica's scope of a node's shared file, beside a neighbour scope whose rows must stay untouched.
 * A reopen opens a second connection to the same file, so it reads what was committed to disk, not
 * the first store's caches.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { logStoreConformance } from "../raft/log-store-conformance.ts";
import { kvStoreConformance } from "../kv/kv-store-conformance.ts";
import type { LogStore, LogWrite } from "../../src/raft/storage.ts";
import { SyncNotingLogStore } from "../../src/hosts/deno/sync-noting-log-store.ts";
import { SqliteKvStore } from "../../src/hosts/common/sqlite/sqlite-kv-store.ts";
import { WriteBackKvStore } from "../../src/hosts/deno/write-back-kv-store.ts";
import type { KvStore } from "../../src/kv/store.ts";
import { SqliteDatabase } from "../../src/hosts/deno/sqlite-database.ts";
import { sharedMigrations } from "../../src/hosts/common/sqlite/schema.ts";

const directory = mkdtempSync(join(tmpdir(), "edgeraft-deno-stores-"));
let files = 0;
const freshDatabase = () => new SqliteDatabase(join(directory, `replica-${++files}.sqlite`));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe("the Deno stores' test process", () => {
  it("runs inside Deno, not Node", () => {
    expect(typeof (globalThis as { Deno?: { version?: { deno?: string } } }).Deno?.version?.deno).toBe("string");
  });

  it("opens its files in WAL mode, synced by hand (synchronous=NORMAL)", () => {
    const database = freshDatabase();
    expect(database.exec("PRAGMA journal_mode").toArray()[0]).toEqual({ journal_mode: "wal" });
    expect(database.exec("PRAGMA synchronous").toArray()[0]).toEqual({ synchronous: 1 });
    database.close();
  });

  it("syncs the WAL after a pass that wrote entries, a snapshot, a term or a vote, and only then", () => {
    const database = freshDatabase();
    const store = new SyncNotingLogStore(database);
    const pass = (write: LogWrite) => database.transaction(() => store.save(write), () => store.takeMustSync());
    const entry = (index: number, term: number) => ({ index, term, type: "normal" as const, data: new Uint8Array([index]) });
    pass({ hardState: { term: 1, vote: 2, commit: 0 }, entries: [entry(1, 1), entry(2, 1)], snapshot: null });
    expect(database.walSyncs).toBe(1);
    pass({ hardState: { term: 1, vote: 2, commit: 2 }, entries: [], snapshot: null }); // commit only
    expect(database.walSyncs).toBe(1);
    pass({ hardState: { term: 2, vote: 2, commit: 2 }, entries: [], snapshot: null }); // new term
    expect(database.walSyncs).toBe(2);
    pass({ hardState: { term: 2, vote: 3, commit: 2 }, entries: [], snapshot: null }); // new vote
    expect(database.walSyncs).toBe(3);
    pass({ hardState: null, entries: [entry(3, 2)], snapshot: null });
    expect(database.walSyncs).toBe(4);
    database.close();
  });

  it("measures one replica's keys and bytes for its load report, not its neighbour's", () => {
    const database = sharedDatabaseWithNeighbour(); // the neighbour holds "n" with one byte
    const kv = new SqliteKvStore(database, "g/1");
    expect(kv.size()).toEqual({ keys: 0, bytes: 0 });
    kv.set("ab", { value: new Uint8Array(10), version: 1 });
    kv.set("c\u00e9", { value: new Uint8Array(5), version: 2 });
    expect(kv.size()).toEqual({ keys: 2, bytes: 2 + 10 + 2 + 5 }); // LENGTH of TEXT counts characters
    kv.delete("ab");
    expect(kv.size()).toEqual({ keys: 1, bytes: 7 });
    expectNeighbourUntouched(database);
    database.close();
  });
});

logStoreConformance("SqliteLogStore (SyncNotingLogStore) on node:sqlite under Deno", (body) => {
  const databases = new Map<LogStore, SqliteDatabase>();
  const open = (database: SqliteDatabase) => {
    const store = new SyncNotingLogStore(database);
    databases.set(store, database);
    return store;
  };
  try {
    body({
      create: () => open(freshDatabase()),
      reopen: (store) => open(new SqliteDatabase(databases.get(store)!.path)),
    });
  } finally {
    for (const database of databases.values()) database.close();
  }
});

kvStoreConformance("SqliteKvStore on node:sqlite under Deno", (body) => {
  const database = freshDatabase();
  try {
    body(() => {
      const store = new SqliteKvStore(database);
      store.clear();
      return store;
    });
  } finally {
    database.close();
  }
});

/** A node database whose scope "neighbour/1" holds a log entry, a hard state and a record, for the isolation checks. */
function sharedDatabaseWithNeighbour(): SqliteDatabase {
  const database = new SqliteDatabase(join(directory, `node-${++files}.sqlite`), sharedMigrations);
  const neighbour = new SyncNotingLogStore(database, "neighbour/1");
  neighbour.save({ hardState: { term: 9, vote: 9, commit: 1 }, entries: [{ index: 1, term: 9, type: "normal", data: new Uint8Array([9]) }], snapshot: null });
  new SqliteKvStore(database, "neighbour/1").set("n", { value: new Uint8Array([9]), version: 9 });
  return database;
}

/** Fails unless the neighbour's rows are exactly as sharedDatabaseWithNeighbour wrote them. */
function expectNeighbourUntouched(database: SqliteDatabase): void {
  const neighbour = new SyncNotingLogStore(database, "neighbour/1");
  expect(neighbour.initialState().hardState).toEqual({ term: 9, vote: 9, commit: 1 });
  expect([neighbour.firstIndex(), neighbour.lastIndex(), neighbour.term(1)]).toEqual([1, 1, 9]);
  const kv = new SqliteKvStore(database, "neighbour/1");
  expect([kv.count(), kv.get("n")?.version]).toEqual([1, 9]);
}

logStoreConformance("SqliteLogStore scoped to one replica of a node's shared database, under Deno", (body) => {
  const databases = new Map<LogStore, SqliteDatabase>();
  let scopes = 0;
  const open = (database: SqliteDatabase, scope: string) => {
    const store = new SyncNotingLogStore(database, scope);
    databases.set(store, database);
    return store;
  };
  const scopeOf = new Map<LogStore, string>();
  try {
    body({
      create: () => {
        const scope = `g${++scopes}/1`;
        const store = open(sharedDatabaseWithNeighbour(), scope);
        scopeOf.set(store, scope);
        return store;
      },
      reopen: (store) => {
        const database = new SqliteDatabase(databases.get(store)!.path, sharedMigrations);
        const reopened = open(database, scopeOf.get(store)!);
        scopeOf.set(reopened, scopeOf.get(store)!);
        return reopened;
      },
    });
    for (const database of new Set(databases.values())) expectNeighbourUntouched(database);
  } finally {
    for (const database of new Set(databases.values())) database.close();
  }
});

kvStoreConformance("SqliteKvStore scoped to one replica of a node's shared database, under Deno", (body) => {
  const database = sharedDatabaseWithNeighbour();
  try {
    body(() => {
      const store = new SqliteKvStore(database, "g/1");
      store.clear();
      return store;
    });
    expectNeighbourUntouched(database);
  } finally {
    database.close();
  }
});

/**
 * The write-back store (a Deno replica's), flushed after every `every`-th write: its reads merge
 * the changes waiting in memory (sets, deletes) with the rows already on disk, and the suite's
 * property test compares them against a sorted reference.
 */
/** What a flush writes beside the records, when the test does not look at it. */
const noMeta = { counters: new Uint8Array([0]), replaceAll: false, upserts: [], deletes: [] };

function flushedEvery(every: number, store: WriteBackKvStore): KvStore {
  let writes = 0;
  const wrote = () => {
    if (++writes % every === 0) store.flush(noMeta);
  };
  return {
    get: (key) => store.get(key),
    set: (key, record) => (store.set(key, record), wrote()),
    delete: (key) => {
      const existed = store.delete(key);
      wrote();
      return existed;
    },
    scan: (range, limit) => store.scan(range, limit),
    count: () => store.count(),
    clear: () => (store.clear(), store.flush(noMeta)),
  };
}

for (const every of [3, 7]) {
  kvStoreConformance(`WriteBackKvStore over a node's shared database, flushed every ${every} writes, under Deno`, (body) => {
    const database = sharedDatabaseWithNeighbour();
    try {
      body(() => {
        const stored = new SqliteKvStore(database, "g/1");
        stored.clear();
        return flushedEvery(every, new WriteBackKvStore(stored));
      });
      expectNeighbourUntouched(database);
    } finally {
      database.close();
    }
  });
}

describe("the write-back store", () => {
  const record = (version: number) => ({ value: new Uint8Array([version]), version });

  it("merges waiting deletes and sets into a page whose rows on disk run past it", () => {
    const database = sharedDatabaseWithNeighbour();
    const stored = new SqliteKvStore(database, "g/1");
    const store = new WriteBackKvStore(stored);
    for (const [i, key] of ["a", "b", "c", "d", "e", "f", "g"].entries()) store.set(key, record(i + 1));
    store.flush(noMeta);
    expect(stored.count()).toBe(7);
    store.delete("a");
    store.delete("c");
    store.set("bb", record(20));
    store.set("d", record(21));
    store.set("h", record(22));
    expect(stored.count()).toBe(7); // nothing written yet
    expect(store.scan({}, 4).map((e) => [e.key, e.version])).toEqual([["b", 2], ["bb", 20], ["d", 21], ["e", 5]]);
    expect(store.scan({ start: "e" }, 10).map((e) => e.key)).toEqual(["e", "f", "g", "h"]);
    expect(store.scan({ prefix: "b" }, 10).map((e) => e.key)).toEqual(["b", "bb"]);
    expect([store.get("a"), store.get("d")?.version, store.count()]).toEqual([undefined, 21, 7]);
    store.flush(noMeta);
    expect(stored.scan({}, 10).map((e) => e.key)).toEqual(["b", "bb", "d", "e", "f", "g", "h"]);
    expectNeighbourUntouched(database);
    database.close();
  });

  it("writes what the state machine hands over (counters, changed sessions) with the records, and waits for nothing after", () => {
    const database = sharedDatabaseWithNeighbour();
    const stored = new SqliteKvStore(database, "g/1");
    const store = new WriteBackKvStore(stored);
    const session = { clientId: "x", order: 1, lastSeq: 2, lastUsedMs: 3, result: { ok: true, type: "noop" } as const };
    store.set("a", record(1));
    store.noteApplied();
    expect([store.pending, store.pendingKeys, store.pendingBytes]).toEqual([true, 1, 2]);
    expect([stored.readMeta(), stored.readSessions(), stored.count()]).toEqual([undefined, [], 0]);
    store.flush({ counters: new Uint8Array([7]), replaceAll: false, upserts: [session], deletes: [] });
    expect([stored.readMeta(), stored.readSessions(), stored.count()]).toEqual([new Uint8Array([7]), [session], 1]);
    expect([store.pending, store.pendingKeys, store.pendingBytes]).toEqual([false, 0, 0]);
    database.close();
  });
});
