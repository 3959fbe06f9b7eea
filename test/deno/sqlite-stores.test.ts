/**
 * Runs the LogStore and KvStore conformance suites against the shared SQLite stores on node:sqlite
 * files, under the real Deno binary (vitest run by Deno: `npm run test:deno`): the same tests the
 * memory stores and the Durable Object stores pass. A reopen opens a second connection to the
 * same file, so it reads what was committed to disk, not the first store's caches.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { logStoreConformance } from "../raft/log-store-conformance.ts";
import { kvStoreConformance } from "../kv/kv-store-conformance.ts";
import type { LogStore } from "../../src/raft/storage.ts";
import { SqliteLogStore } from "../../src/hosts/common/sqlite/sqlite-log-store.ts";
import { SqliteKvStore } from "../../src/hosts/common/sqlite/sqlite-kv-store.ts";
import { SqliteDatabase } from "../../src/hosts/deno/sqlite-database.ts";

const directory = mkdtempSync(join(tmpdir(), "edgeraft-deno-stores-"));
let files = 0;
const freshDatabase = () => new SqliteDatabase(join(directory, `replica-${++files}.sqlite`));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe("the Deno stores' test process", () => {
  it("runs inside Deno, not Node", () => {
    expect(typeof (globalThis as { Deno?: { version?: { deno?: string } } }).Deno?.version?.deno).toBe("string");
  });

  it("opens its files in WAL mode with synchronous=FULL", () => {
    const database = freshDatabase();
    expect(database.exec("PRAGMA journal_mode").toArray()[0]).toEqual({ journal_mode: "wal" });
    expect(database.exec("PRAGMA synchronous").toArray()[0]).toEqual({ synchronous: 2 });
    database.close();
  });
});

logStoreConformance("SqliteLogStore on node:sqlite under Deno", (body) => {
  const databases = new Map<LogStore, SqliteDatabase>();
  const open = (database: SqliteDatabase) => {
    const store = new SqliteLogStore(database);
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
