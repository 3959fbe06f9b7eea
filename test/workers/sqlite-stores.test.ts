/**
 * Runs the LogStore and KvStore conformance suites against the SQLite stores inside real Durable
 * Objects (workerd, the Workers Vitest plugin): the same tests the memory stores pass.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { logStoreConformance } from "../raft/log-store-conformance.ts";
import { kvStoreConformance } from "../kv/kv-store-conformance.ts";
import { SqliteLogStore } from "../../src/hosts/common/sqlite/sqlite-log-store.ts";
import { SqliteKvStore } from "../../src/hosts/common/sqlite/sqlite-kv-store.ts";
import type { SqlRunner } from "../../src/hosts/common/sqlite/schema.ts";

let objects = 0;
const freshObject = () => env.REPLICA.get(env.REPLICA.idFromName(`conformance/${++objects}`));
const sqlOf = (state: DurableObjectState) => state.storage.sql as unknown as SqlRunner;

logStoreConformance("SqliteLogStore in a Durable Object", (body) =>
  runInDurableObject(freshObject(), (_instance, state) => {
    body({ create: () => new SqliteLogStore(sqlOf(state)), reopen: () => new SqliteLogStore(sqlOf(state)) });
  }),
);

kvStoreConformance("SqliteKvStore in a Durable Object", (body) =>
  runInDurableObject(freshObject(), (_instance, state) => {
    body(() => {
      const store = new SqliteKvStore(sqlOf(state));
      store.clear();
      return store;
    });
  }),
);
