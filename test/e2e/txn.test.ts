/**
 * Proves POST /v1/txn end to end against a real wrangler dev: a transfer between keys of two groups
 * commits with checks on their versions (and concurrent transfers on the same accounts never lose
 * or create money: every one either commits or answers 409 txnConflict), a single-group
 * transaction takes the one-phase path, and a failed check answers 409 naming the key.
 */
import { describe, expect, it } from "vitest";
import { call, callJson } from "./client.ts";

type TxnAnswer = { committed?: boolean; reads?: { key: string; found: boolean; value?: string; version: number }[]; versions?: Record<string, number>; code?: string; keys?: string[] };

const txn = (body: unknown) => callJson<TxnAnswer>("/v1/txn", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

async function transfer(from: string, to: string, amount: number): Promise<number> {
  const read = await txn({ reads: [from, to] });
  expect(read.status).toBe(200);
  const [source, target] = read.body.reads!;
  const moved = await txn({
    checks: [{ key: from, version: source!.version }, { key: to, version: target!.version }],
    writes: [{ op: "put", key: from, value: String(Number(source!.value) - amount) }, { op: "put", key: to, value: String(Number(target!.value) + amount) }],
  });
  expect([200, 409]).toContain(moved.status);
  return moved.status;
}

describe("transactions through wrangler dev", () => {
  it("moves money between two groups atomically, also under concurrent transfers", async () => {
    expect((await call("/v1/groups", { method: "POST", body: JSON.stringify({ name: "e2e-txn", prefix: "e2e-txn-b/" }), headers: { "content-type": "application/json" } })).status).toBe(201);
    const keys = ["e2e-txn-a/1", "e2e-txn-b/1"];
    const created = await txn({ checks: keys.map((key) => ({ key, absent: true })), writes: keys.map((key) => ({ op: "put", key, value: "100" })) });
    expect(created.status).toBe(200);
    const groups = await Promise.all(keys.map(async (key) => (await call(`/v1/kv/${encodeURIComponent(key)}`)).headers.get("x-edgeraft-group")));
    expect(groups).toEqual(["default", "e2e-txn"]);
    const statuses = await Promise.all(Array.from({ length: 6 }, (_, index) => transfer(keys[index % 2]!, keys[(index + 1) % 2]!, 10 + index)));
    expect(statuses).toContain(200);
    const final = await txn({ reads: keys });
    expect(final.body.reads!.reduce((sum, read) => sum + Number(read.value), 0)).toBe(200);
  });

  it("takes the one-phase path in one group and answers 409 txnConflict naming a failed check", async () => {
    const single = await txn({ checks: [{ key: "e2e-txn-solo", absent: true }], writes: [{ op: "put", key: "e2e-txn-solo", value: "1" }, { op: "delete", key: "e2e-txn-solo-gone" }] });
    expect(single.status).toBe(200);
    expect(Object.keys(single.body.versions!).sort()).toEqual(["e2e-txn-solo", "e2e-txn-solo-gone"]);
    const conflict = await txn({ checks: [{ key: "e2e-txn-solo", absent: true }], writes: [{ op: "put", key: "e2e-txn-b/solo", value: "2" }] });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ code: "txnConflict", keys: ["e2e-txn-solo"] });
    expect((await call("/v1/kv/e2e-txn-b%2Fsolo")).status).toBe(404);
  });
});
