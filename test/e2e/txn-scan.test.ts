/**
 * Proves that scans meet transactions' intents, end to end against a real wrangler dev: a transfer
 * between two groups whose router stops right after the commit decision (haltTxn fault: 200, no
 * resolve) is seen committed by a scan at once (before, the scan read the old values: the intents
 * were not in the records yet), across both groups and in one; and a transfer stopped after its
 * prepare (pending record, intents: GET /v1/groups/{name} counts them) makes a scan wait until the
 * record's deadline, abort it through the record, and show the values from before it; then the
 * sweep forgets the record and every count returns to 0.
 */
import { describe, expect, it } from "vitest";
import { call, callJson } from "./client.ts";

const json = { "content-type": "application/json" };
const keys = ["e2e-tscan-a/1", "e2e-tscan-b/1"];

type Scan = { entries: { key: string; value: string; version: number }[] };

const txn = (body: unknown) => callJson<{ committed?: boolean; reads?: { key: string; value?: string; version: number }[]; code?: string }>("/v1/txn", { method: "POST", headers: json, body: JSON.stringify(body) });
const halt = async (after: "prepare" | "decide") => expect((await call("/v1/faults", { method: "POST", headers: json, body: JSON.stringify({ kind: "haltTxn", after }) })).status).toBe(200);

async function scan(prefix: string): Promise<Record<string, string>> {
  const answer = await callJson<Scan>(`/v1/kv?prefix=${encodeURIComponent(prefix)}`);
  expect(answer.status).toBe(200);
  return Object.fromEntries(answer.body.entries.map((entry) => [entry.key, entry.value]));
}

/** The intents and records `group`'s leader holds (GET /v1/groups/{name}). */
async function transactionsOf(group: string): Promise<{ intents: number; records: number }> {
  const inspected = await callJson<{ transactions?: { intents: number; records: number } }>(`/v1/groups/${group}`);
  expect(inspected.status).toBe(200);
  const { intents, records } = inspected.body.transactions ?? { intents: -1, records: -1 };
  return { intents, records };
}

/** A transfer of `amount` from keys[0] to keys[1], checked on the versions just read. */
async function transfer(amount: number) {
  const read = await txn({ reads: keys });
  expect(read.status).toBe(200);
  const [from, to] = read.body.reads!;
  return txn({
    checks: [{ key: from!.key, version: from!.version }, { key: to!.key, version: to!.version }],
    writes: [{ op: "put", key: from!.key, value: String(Number(from!.value) - amount) }, { op: "put", key: to!.key, value: String(Number(to!.value) + amount) }],
  });
}

describe("scans and unresolved transactions", () => {
  it("show a transfer committed at once when its router stopped before resolving it", async () => {
    expect((await call("/v1/groups", { method: "POST", headers: json, body: JSON.stringify({ name: "e2e-tscan", prefix: "e2e-tscan-b/" }) })).status).toBe(201);
    expect((await txn({ checks: keys.map((key) => ({ key, absent: true })), writes: keys.map((key) => ({ op: "put", key, value: "100" })) })).status).toBe(200);
    const groups = await Promise.all(keys.map(async (key) => (await call(`/v1/kv/${encodeURIComponent(key)}`)).headers.get("x-edgeraft-group")));
    expect(groups).toEqual(["default", "e2e-tscan"]);

    await halt("decide");
    const moved = await transfer(30);
    expect(moved.status).toBe(200);
    expect(await scan("e2e-tscan-")).toEqual({ [keys[0]!]: "70", [keys[1]!]: "130" }); // read right away: the sweep waits for the deadline (2 s)

    await halt("decide");
    expect((await transfer(5)).status).toBe(200);
    expect(await scan("e2e-tscan-b/")).toEqual({ [keys[1]!]: "135" }); // one group's page
    expect(await scan("e2e-tscan-a/")).toEqual({ [keys[0]!]: "65" });
  });

  it("wait out a transfer stopped after its prepare, then abort it through its record", async () => {
    await settled(); // the sweep forgets the records the halted commits above left
    await halt("prepare");
    const stopped = await transfer(50);
    expect(stopped.status).toBe(503);
    // Left behind: the pending record in the first written key's group, an intent in each group.
    expect(await transactionsOf("default")).toEqual({ intents: 1, records: 1 });
    expect(await transactionsOf("e2e-tscan")).toEqual({ intents: 1, records: 0 });
    expect(await scan("e2e-tscan-")).toEqual({ [keys[0]!]: "65", [keys[1]!]: "135" }); // after waiting for the record's deadline (2 s)
    expect((await txn({ reads: keys })).body.reads!.map((read) => read.value)).toEqual(["65", "135"]);
    await settled(); // the scan resolved the intents it met; the sweep forgets the record
  });
});

/** Waits (at most 15 s) until both groups' leaders hold no intent and no record: the sweep runs every 2 s while a group holds any. */
async function settled(): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const [left, right] = await Promise.all([transactionsOf("default"), transactionsOf("e2e-tscan")]);
    if (left.intents + left.records + right.intents + right.records === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(await transactionsOf("default")).toEqual({ intents: 0, records: 0 });
  expect(await transactionsOf("e2e-tscan")).toEqual({ intents: 0, records: 0 });
}
