/**
 * Proves POST /v1/txn inside workerd over real replica objects with SQLite, through the Worker's own
 * fetch: a transfer between keys of two groups commits atomically with the versions it took; a
 * stale check answers 409 txnConflict naming the key and writes nothing; a single-group transaction
 * takes the one-phase path (no intents left anywhere); a snapshot read sees both sides; and a
 * transaction abandoned after its prepare (a router that died: its intents written straight into
 * the replicas) blocks nobody forever: a read that meets its intent waits past the deadline, pushes
 * the record to aborted, resolves the intent and answers the old value, and a later transaction
 * on the key commits. Nobody needs to meet an abandoned transaction: the leader's background sweep
 * (its alarm, only while the group holds intents or records) aborts a pending one past its deadline
 * and applies a committed one whose router died before resolving, then forgets both records.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call } from "./worker-call.ts";


const txn = (body: unknown) => call("POST", "/v1/txn", body);

/** The intents and records every replica of `group` holds, read inside the objects. */
async function heldBy(group: string): Promise<{ intents: number; records: number }[]> {
  const view = await call("GET", `/v1/groups/${group}`);
  return Promise.all(
    (view.json.replicas as { id: number }[]).map((replica) =>
      runInDurableObject(env.REPLICA.get(env.REPLICA.idFromName(`${group}/${replica.id}`)), (instance) => {
        const held = (instance as unknown as { host: { runtime?: { transactions(): { intents: unknown[]; records: unknown[] } } } }).host.runtime?.transactions();
        return { intents: held?.intents.length ?? 0, records: held?.records.length ?? 0 };
      }),
    ),
  );
}

/** Sends an internal write to every replica of `group` until its leader applies it. */
async function writeToLeader(group: string, operation: unknown): Promise<Record<string, unknown>> {
  const view = await call("GET", `/v1/groups/${group}`);
  for (let attempt = 0; attempt < 50; attempt++) {
    for (const replica of view.json.replicas as { id: number }[]) {
      const stub = env.REPLICA.get(env.REPLICA.idFromName(`${group}/${replica.id}`));
      const body = { epoch: view.json.epoch, command: { clientId: "abandoned-router", seq: Date.now(), timeMs: Date.now(), operation } };
      const answer = (await (await stub.fetch("https://replica/internal/write", { method: "POST", body: JSON.stringify(body) })).json()) as { kind: string; result?: Record<string, unknown> };
      if (answer.kind === "applied") return answer.result!;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no leader of ${group} applied the write`);
}

describe("POST /v1/txn over real replica objects", () => {
  it("transfers between two groups atomically, refuses a stale check with 409, and reads a snapshot", async () => {
    expect((await call("POST", "/v1/groups", { name: "txn-b", prefix: "b/" })).status).toBe(201);
    const a = await call("PUT", "/v1/kv/a%2Facct", "100");
    const b = await call("PUT", "/v1/kv/b%2Facct", "0");
    expect([a.json.group, b.json.group]).toEqual(["default", "txn-b"]);
    const transfer = await txn({
      reads: ["a/acct", "b/acct"],
      checks: [{ key: "a/acct", version: a.json.version }, { key: "b/acct", version: b.json.version }],
      writes: [{ op: "put", key: "a/acct", value: "70" }, { op: "put", key: "b/acct", value: "30" }],
    });
    expect(transfer.status).toBe(200);
    expect(transfer.json.committed).toBe(true);
    expect(transfer.json.reads).toEqual([
      { key: "a/acct", found: true, value: "100", valueBase64: btoa("100"), version: a.json.version },
      { key: "b/acct", found: true, value: "0", valueBase64: btoa("0"), version: b.json.version },
    ]);
    expect(transfer.json.versions["a/acct"]).toBeGreaterThan(a.json.version);
    expect(transfer.json.versions["b/acct"]).toBeGreaterThan(b.json.version);
    const after = await call("GET", "/v1/kv/b%2Facct");
    expect(after.json.text).toBe("30");

    const stale = await txn({ checks: [{ key: "a/acct", version: a.json.version }], writes: [{ op: "put", key: "b/acct", value: "999" }, { op: "put", key: "a/acct", value: "-899" }] });
    expect(stale.status).toBe(409);
    expect(stale.json).toMatchObject({ code: "txnConflict", keys: ["a/acct"] });
    const snapshot = await txn({ reads: ["a/acct", "b/acct", "nobody"] });
    expect(snapshot.status).toBe(200);
    expect(snapshot.json.reads.map((read: { value?: string; found: boolean }) => read.value ?? read.found)).toEqual(["70", "30", false]);
    expect((await call("GET", "/v1/kv/b%2Facct")).json.text).toBe("30"); // the aborted transaction's prepared write in txn-b vanished
  });

  it("takes the one-phase path for keys of one group and answers the versions", async () => {
    const single = await txn({ checks: [{ key: "solo/x", absent: true }], writes: [{ op: "put", key: "solo/x", value: "1" }, { op: "put", key: "solo/y", valueBase64: "AP8=" }, { op: "delete", key: "solo/z" }] });
    expect(single.status).toBe(200);
    expect(Object.keys(single.json.versions).sort()).toEqual(["solo/x", "solo/y", "solo/z"]);
    const again = await txn({ checks: [{ key: "solo/x", absent: true }], writes: [{ op: "put", key: "solo/x", value: "2" }] });
    expect(again.status).toBe(409);
    expect(again.json.keys).toEqual(["solo/x"]);
  });

  it("resolves the intents of a transaction whose router died after prepare, from its record", async () => {
    await call("PUT", "/v1/kv/orphan", "before");
    const deadlineMs = Date.now() + 300;
    const txnId = "orphan-txn";
    expect(await writeToLeader("default", { type: "txn", action: "begin", txn: txnId, recordKey: "orphan", deadlineMs, keys: ["orphan"] })).toMatchObject({ status: "pending" });
    const prepared = await writeToLeader("default", { type: "txn", action: "prepare", txn: txnId, recordKey: "orphan", deadlineMs, ops: [{ type: "put", key: "orphan", valueBase64: btoa("never") }], reads: [] });
    expect(prepared).toMatchObject({ ok: true, type: "txn" });
    const started = Date.now();
    const read = await call("GET", "/v1/kv/orphan");
    expect(read.json.text).toBe("before");
    expect(Date.now()).toBeGreaterThanOrEqual(deadlineMs); // it waited for the deadline before pushing
    expect(Date.now() - started).toBeLessThan(5_000);
    const next = await txn({ writes: [{ op: "put", key: "orphan", value: "after" }, { op: "put", key: "b/orphan", value: "after" }] });
    expect(next.status).toBe(200);
    expect((await call("GET", "/v1/kv/orphan")).json.text).toBe("after");
  });

  it("sweeps abandoned transactions nobody meets: a pending one is aborted, a committed one applied", async () => {
    const deadlineMs = Date.now() + 1_500; // room to decide the committed one before a sweep may abort it past its deadline
    const write = (txn: string, key: string) => ({ type: "txn", action: "prepare", txn, recordKey: key, deadlineMs, ops: [{ type: "put", key, valueBase64: btoa(txn) }], reads: [] });
    for (const [txn, key] of [["swept-pending", "sweep/p"], ["swept-committed", "sweep/c"]] as const) {
      expect(await writeToLeader("default", { type: "txn", action: "begin", txn, recordKey: key, deadlineMs, keys: [key] })).toMatchObject({ status: "pending" });
      expect(await writeToLeader("default", write(txn, key))).toMatchObject({ ok: true });
    }
    expect(await writeToLeader("default", { type: "txn", action: "decide", txn: "swept-committed", recordKey: "sweep/c", decision: "commit" })).toMatchObject({ status: "committed" });
    let held = await heldBy("default");
    expect(held.some((replica) => replica.intents === 2 && replica.records >= 2)).toBe(true);
    for (let attempt = 0; attempt < 100 && held.some((replica) => replica.intents + replica.records > 0); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      held = await heldBy("default");
    }
    expect(held.every((replica) => replica.intents === 0 && replica.records === 0)).toBe(true);
    expect((await call("GET", "/v1/kv/sweep%2Fc")).json.text).toBe("swept-committed");
    expect((await call("GET", "/v1/kv/sweep%2Fp")).status).toBe(404);
  });
});
