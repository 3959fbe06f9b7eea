/**
 * Proves inside workerd that SqliteKvStore keeps the state machine's sessions one row per client:
 * a persist writes the counters row and only the changed session rows, a machine reopened from
 * those rows continues exactly like one that never reopened (ties in lastUsedMs included), and a
 * kv_meta blob written before kv_session existed (sessions inside it) reopens with its sessions
 * and turns them into rows, both through the store and through a replica Durable Object that crashes.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { encodeCommand } from "../../src/kv/command-codec.ts";
import type { Command } from "../../src/kv/command.ts";
import { MemoryKvStore } from "../../src/kv/memory-store.ts";
import { decodeSnapshot } from "../../src/kv/snapshot-codec.ts";
import { KvStateMachine } from "../../src/kv/state-machine.ts";
import type { SqlRunner } from "../../src/hosts/common/sqlite/schema.ts";
import { SqliteKvStore } from "../../src/hosts/common/sqlite/sqlite-kv-store.ts";

let objects = 0;
const freshObject = () => env.REPLICA.get(env.REPLICA.idFromName(`session-rows/${++objects}`));
const sqlOf = (state: DurableObjectState) => state.storage.sql as unknown as SqlRunner;

/** `sql` with every statement it runs recorded, to count the rows a persist writes. */
function recorded(sql: SqlRunner): { sql: SqlRunner; statements: string[] } {
  const statements: string[] = [];
  return { statements, sql: { exec: (query, ...bindings) => (statements.push(query), sql.exec(query, ...bindings)) } };
}

const use = (clientId: string, seq: number, timeMs = 0): Command => ({
  clientId,
  seq,
  timeMs,
  operation: { type: "put", key: clientId, value: new Uint8Array([seq]) },
});

function applyBoth(machines: readonly KvStateMachine[], command: Command): unknown[] {
  return machines.map((machine) => machine.apply(machine.appliedIndex + 1, encodeCommand(command)));
}

/** Opens a state machine over `store` the way ReplicaHost.start does. */
const reopen = (store: SqliteKvStore, sessionsMax?: number) =>
  new KvStateMachine(store, { sessionsMax, resume: store.readMeta(), resumeSessions: store.readSessions() });

const sessionRowCount = (sql: SqlRunner) => Number(sql.exec("SELECT COUNT(*) AS n FROM kv_session").toArray()[0]?.n);

function blobSessions(store: SqliteKvStore): unknown[] {
  const decoded = decodeSnapshot(store.readMeta() ?? new Uint8Array());
  if (!decoded.ok) throw new Error(decoded.reason);
  return [...decoded.snapshot.sessions];
}

describe("SqliteKvStore session rows", () => {
  it("writes only the changed rows, and reopens into a machine that evicts like one that never reopened", async () => {
    await runInDurableObject(freshObject(), (_instance, state) => {
      const { sql, statements } = recorded(sqlOf(state));
      const store = new SqliteKvStore(sql);
      const twin = new KvStateMachine(new MemoryKvStore(), { sessionsMax: 3 });
      const machine = reopen(store, 3);
      for (const command of [use("a", 1), use("b", 1), use("c", 1), use("a", 1)]) applyBoth([machine, twin], command);
      statements.length = 0;
      state.storage.transactionSync(() => store.writeMeta(machine.takeMetaChanges()));
      expect(statements.filter((query) => query.includes("kv_session"))).toHaveLength(3);
      expect(sessionRowCount(sql)).toBe(3);
      expect(blobSessions(store)).toEqual([]);

      const reopened = reopen(store, 3);
      expect(reopened.metaSnapshot()).toEqual(twin.metaSnapshot());
      const [result, expected] = applyBoth([reopened, twin], use("d", 1)); // all used at 0: order alone says b goes
      expect(result).toEqual(expected);
      statements.length = 0;
      store.writeMeta(reopened.takeMetaChanges());
      expect(statements.filter((query) => query.startsWith("DELETE FROM kv_session"))).toHaveLength(1);
      expect(statements.filter((query) => query.startsWith("INSERT INTO kv_session"))).toHaveLength(1);
      expect(store.readSessions().map((row) => row.clientId).sort()).toEqual(["a", "c", "d"]);

      const again = reopen(store, 3);
      expect(again.metaSnapshot()).toEqual(twin.metaSnapshot());
      expect(applyBoth([again, twin], use("b", 1))).toEqual([{ ok: true, type: "put", version: 5 }, { ok: true, type: "put", version: 5 }]);
      // b's return evicted c (least recently used), so c's retry is applied again, on both.
      expect(applyBoth([again, twin], use("c", 1))).toEqual([{ ok: true, type: "put", version: 6 }, { ok: true, type: "put", version: 6 }]);
      expect(again.metaSnapshot()).toEqual(twin.metaSnapshot());
    });
  });

  it("reopens a kv_meta blob that holds the sessions, then writes them as rows and the blob without them", async () => {
    await runInDurableObject(freshObject(), (_instance, state) => {
      const sql = sqlOf(state);
      const store = new SqliteKvStore(sql);
      const old = reopen(store);
      for (const command of [use("a", 1, 5), use("b", 1, 5), use("b", 2, 9)]) applyBoth([old], command);
      const legacy = old.metaSnapshot(); // what writeMeta stored before kv_session existed
      sql.exec("INSERT INTO kv_meta (id, data) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data", legacy);
      expect(sessionRowCount(sql)).toBe(0);

      const reopened = reopen(store);
      expect(reopened.metaSnapshot()).toEqual(legacy);
      store.writeMeta(reopened.takeMetaChanges());
      expect(sessionRowCount(sql)).toBe(2);
      expect(blobSessions(store)).toEqual([]);
      const again = reopen(store);
      expect(again.metaSnapshot()).toEqual(legacy);
      expect(applyBoth([again], use("b", 2, 10))).toEqual([{ ok: true, type: "put", version: 3 }]); // a retry: the cached result
    });
  });
});

const post = (stub: DurableObjectStub, path: string, body: unknown) =>
  stub.fetch(`https://replica${path}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function writeAsLeader(stub: DurableObjectStub, command: unknown): Promise<{ kind: string; result?: unknown }> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const answer = (await (await post(stub, "/internal/write", { epoch: 1, command })).json()) as { kind: string; result?: unknown };
    if (answer.kind === "applied") return answer;
    await post(stub, "/internal/campaign", {});
    await sleep(10);
  }
  throw new Error("the replica never became leader");
}

describe("a replica Durable Object that crashes", () => {
  for (const legacyBlob of [false, true]) {
    const stored = legacyBlob ? "in a kv_meta blob from before session rows" : "as rows";
    it(`keeps sessions stored ${stored}, and stores them as rows when it reopens`, async () => {
      const group = `crash-with-sessions-${legacyBlob ? "in-blob" : "in-rows"}`;
      const stub = () => env.REPLICA.get(env.REPLICA.idFromName(`${group}/1`));
      const bootstrap = { group, replica: 1, voters: [1], locations: {}, owns: { default: true }, epoch: 1 };
      expect((await post(stub(), "/internal/bootstrap", bootstrap)).status).toBe(200);
      const command = (client: string) => ({ clientId: client, seq: 1, timeMs: 1_000, operation: { type: "put", key: client, valueBase64: btoa(client) } });
      const clients = ["x", "y", "z"];
      const first = await Promise.all(clients.map(async (client) => (await writeAsLeader(stub(), command(client))).result));
      await runInDurableObject(stub(), (_instance, state) => {
        const sql = sqlOf(state);
        expect(sessionRowCount(sql)).toBe(3);
        if (!legacyBlob) return;
        const legacy = reopen(new SqliteKvStore(sql)).metaSnapshot(); // what writeMeta stored before kv_session existed
        sql.exec("DELETE FROM kv_session");
        sql.exec("INSERT INTO kv_meta (id, data) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data", legacy);
      });
      await post(stub(), "/internal/crash", {}).catch(() => undefined);

      const retried = await Promise.all(clients.map(async (client) => (await writeAsLeader(stub(), command(client))).result));
      expect(retried).toEqual(first); // the sessions survived: each retry got its cached result
      await runInDurableObject(stub(), (_instance, state) => {
        const store = new SqliteKvStore(sqlOf(state));
        expect(store.readSessions().map((row) => row.clientId).sort()).toEqual(clients);
        expect(blobSessions(store)).toEqual([]);
      });
    });
  }
});
