/**
 * Proves that the Deno host sweeps abandoned transactions, on a real 3-process Deno cluster with
 * FAULTS=on: a transfer between two groups whose router stops after its prepare (haltTxn) leaves a
 * pending record and an intent in each group (GET /v1/groups/{name} counts them); with nobody
 * touching the keys, the leaders' sweep aborts it through the record once its deadline passed,
 * resolves the intents and forgets the record, so every count returns to 0 and the balances are
 * those from before. One stopped after its commit decision (200, nothing resolved) is swept to
 * its committed values the same way.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDenoCluster, type DenoCluster } from "../e2e/deno-cluster.ts";
import { e2eAdminToken } from "../e2e/wrangler.ts";

const keys = ["sweep-a/1", "sweep-b/1"];
const groups = ["default", "deno-sweep"];
const headers = { authorization: `Bearer ${e2eAdminToken}`, "content-type": "application/json" };

let cluster: DenoCluster;
let dataDirectory: string;

beforeAll(async () => {
  dataDirectory = mkdtempSync(join(tmpdir(), "edgeraft-deno-sweep-"));
  cluster = await startDenoCluster({ dataDirectory, faults: true });
});

afterAll(async () => {
  await cluster?.stop();
  rmSync(dataDirectory, { recursive: true, force: true });
});

/** Sends to node 1 (a halt applies to the node that received it). */
async function send<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(`${cluster.urls[0]}${path}`, { ...init, headers, signal: AbortSignal.timeout(20_000) });
  return { status: response.status, body: (await response.json()) as T };
}

const txn = (body: unknown) => send<{ reads?: { key: string; value?: string; version: number }[] }>("/v1/txn", { method: "POST", body: JSON.stringify(body) });

/** Each group's intents and records as its leader holds them (undefined while no leader answers). */
async function counts(): Promise<Record<string, { intents: number; records: number } | undefined>> {
  const entries = await Promise.all(groups.map(async (group) => {
    const inspected = await send<{ transactions?: { intents: number; records: number } }>(`/v1/groups/${group}`);
    const held = inspected.body.transactions;
    return [group, held === undefined ? undefined : { intents: held.intents, records: held.records }] as const;
  }));
  return Object.fromEntries(entries);
}

/** A transfer of `amount` from keys[0] to keys[1] that stops after `after`, checked on the versions just read. */
async function haltedTransfer(after: "prepare" | "decide", amount: number): Promise<number> {
  const read = await txn({ reads: keys });
  expect(read.status).toBe(200);
  const [from, to] = read.body.reads!;
  expect((await send("/v1/faults", { method: "POST", body: JSON.stringify({ kind: "haltTxn", after }) })).status).toBe(200);
  const moved = await txn({
    checks: [{ key: from!.key, version: from!.version }, { key: to!.key, version: to!.version }],
    writes: [{ op: "put", key: from!.key, value: String(Number(from!.value) - amount) }, { op: "put", key: to!.key, value: String(Number(to!.value) + amount) }],
  });
  return moved.status;
}

const none = { default: { intents: 0, records: 0 }, "deno-sweep": { intents: 0, records: 0 } };

describe("the transaction sweep on the Deno host", () => {
  it("aborts a transaction abandoned after its prepare, and resolves one abandoned after its commit, with nobody reading", async () => {
    expect((await send("/v1/groups", { method: "POST", body: JSON.stringify({ name: "deno-sweep", prefix: "sweep-b/" }) })).status).toBe(201);
    expect((await txn({ checks: keys.map((key) => ({ key, absent: true })), writes: keys.map((key) => ({ op: "put", key, value: "100" })) })).status).toBe(200);
    await expect.poll(counts, { timeout: 20_000, interval: 250 }).toEqual(none);

    expect(await haltedTransfer("prepare", 40)).toBe(503);
    expect(await counts()).toEqual({ default: { intents: 1, records: 1 }, "deno-sweep": { intents: 1, records: 0 } });
    await expect.poll(counts, { timeout: 20_000, interval: 250 }).toEqual(none); // only the sweep touches them
    expect((await txn({ reads: keys })).body.reads!.map((read) => read.value)).toEqual(["100", "100"]);

    expect(await haltedTransfer("decide", 25)).toBe(200);
    expect((await counts())["deno-sweep"]).toEqual({ intents: 1, records: 0 });
    await expect.poll(counts, { timeout: 20_000, interval: 250 }).toEqual(none);
    expect((await txn({ reads: keys })).body.reads!.map((read) => read.value)).toEqual(["75", "125"]);
  });
});
