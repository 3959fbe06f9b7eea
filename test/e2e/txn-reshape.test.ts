/**
 * Proves, against a real wrangler dev, that transactions stay correct while the operator reshapes
 * the keyspace under them, and that the reshapes no longer roll back because transactions hold
 * intents or records in the spans they move: a bank of 16 accounts in two prefix groups runs four
 * transfer clients and a snapshot client, and two more clients keep wide transactions (four keys in
 * the spans that move) in flight, while the operator splits an account group, moves a range of
 * accounts into another group, splits at the median and merges back, twice. Every split, move and
 * merge must answer 2xx (a rolled-back move answers 503), every snapshot and the final read must sum
 * to the initial total, the history must be strictly serializable, no answer may be a 500, and after
 * the run no account group's leader may hold an intent or a transaction record.
 */
import { describe, expect, it } from "vitest";
import { createRng } from "../../src/shared/rng.ts";
import { createBankContext, runSnapshotClient, runTransferClient, seedAccounts, type BankPlan } from "./bank-workload.ts";
import { finishBank, judgeBank, settleTransactions } from "./bank-verdict.ts";
import { baseUrl, callJson } from "./client.ts";

const plan: BankPlan = {
  groups: [
    { name: "txr-a", prefix: "txr-a/" },
    { name: "txr-b", prefix: "txr-b/" },
  ],
  accountsPerGroup: 8,
  initialBalance: 100,
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
type View = { name: string; ranges: { start: string; end?: string }[] };
type Inspected = { health?: { leader?: number } };

async function post<T>(path: string, body: unknown): Promise<{ status: number; body: T }> {
  return callJson<T>(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

/** Keys that wide transactions write, one in each span the operator moves (split halves, the moved range, the median split's upper half). */
const wideKeys = ["txr-a/1w", "txr-a/5w", "txr-b/1w", "txr-b/6w"];

/** Writes every wide key in one transaction, again and again, until `running()` is false; counts commits and 500s. */
async function runWideClient(client: number, running: () => boolean, counts: { committed: number; internalErrors: number }): Promise<void> {
  for (let round = 0; running(); round++) {
    const writes = wideKeys.map((key) => ({ op: "put", key, value: `wide ${client}.${round}` }));
    const answer = await post<{ committed?: boolean }>("/v1/txn", { reads: [], checks: [], writes });
    if (answer.status === 200 && answer.body.committed === true) counts.committed++;
    if (answer.status >= 500 && answer.status !== 503) counts.internalErrors++;
  }
}

async function leaderOf(group: string): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const inspected = await callJson<Inspected>(`/v1/groups/${group}`);
    const leader = inspected.body.health?.leader ?? 0;
    if (leader > 0) return leader;
    await sleep(200);
  }
  throw new Error(`group ${group} has no leader`);
}

describe("transactions while the keyspace is reshaped", () => {
  it("keeps the bank's total through splits, moves and merges of its account ranges, every one of which commits", async () => {
    for (const group of plan.groups) {
      const created = await post("/v1/groups", group);
      expect(created.status).toBe(201);
      await leaderOf(group.name);
    }
    let operating = true;
    const context = createBankContext(baseUrl(), plan, { requestTimeoutMs: 20_000, running: () => operating });
    expect(await seedAccounts(context, plan.initialBalance)).toBe(true);
    const rng = createRng(41);
    const wide = { committed: 0, internalErrors: 0 };
    const clients = [
      ...Array.from({ length: 4 }, (_, client) => runTransferClient(context, client, rng.fork())),
      runSnapshotClient(context, 0),
      ...Array.from({ length: 2 }, (_, client) => runWideClient(client, () => operating, wide)),
    ];

    const reshapes: string[] = [];
    const committedAt: number[] = [];
    const reshape = async (label: string, path: string, body: unknown, expected: number): Promise<View> => {
      await sleep(1_500); // transfers run between reshapes, so intents and records sit in the spans that move
      const before = context.counts.transfersCommitted;
      const answer = await post<View & { detail?: string }>(path, body);
      expect(answer.status, `${label}: ${JSON.stringify(answer.body)}`).toBe(expected);
      reshapes.push(label);
      committedAt.push(context.counts.transfersCommitted - before);
      return answer.body;
    };
    try {
      for (const round of [1, 2]) {
        const high = await reshape(`round ${round}: split txr-a at txr-a/4`, "/v1/groups/txr-a/split", { at: "txr-a/4", name: `txr-a-hi${round}` }, 201);
        expect(high.ranges).toEqual([{ start: "txr-a/4", end: "txr-a0" }]);
        const moved = await reshape(`round ${round}: move txr-b/0..3 to txr-a`, "/v1/ranges/move", { start: "txr-b/0", end: "txr-b/4", to: "txr-a" }, 200);
        expect((moved as unknown as { moves: unknown[] }).moves.length).toBe(1);
        const median = await reshape(`round ${round}: split txr-b at its median`, "/v1/groups/txr-b/split", { name: `txr-b-hi${round}` }, 201);
        await reshape(`round ${round}: merge ${median.name} into txr-b`, "/v1/groups/txr-b/merge", { with: median.name }, 200);
        await reshape(`round ${round}: move txr-b/0..3 back to txr-b`, "/v1/ranges/move", { start: "txr-b/0", end: "txr-b/4", to: "txr-b" }, 200);
        await reshape(`round ${round}: merge txr-a-hi${round} into txr-a`, "/v1/groups/txr-a/merge", { with: `txr-a-hi${round}` }, 200);
      }
      await sleep(1_500);
    } finally {
      operating = false;
      await Promise.all(clients);
    }

    const finals = await finishBank(context, 60_000);
    const groups = plan.groups.map((group) => group.name); // the groups split off were merged back and removed
    const verdict = judgeBank(context, finals, await settleTransactions(context, groups, 30_000));
    const answers = [...context.answers].map(([answer, count]) => `${answer} x${count}`).join(", ");
    console.log(`txn-reshape: ${reshapes.length} reshapes, transfers committed during each: ${committedAt.join(" ")}; bank ${JSON.stringify(context.counts)}; wide ${JSON.stringify(wide)}; answers: ${answers}\n${verdict.checkerLines.join("\n")}`);
    expect(reshapes).toHaveLength(12);
    expect(verdict.checkerLines.slice(1)).toEqual([]);
    expect(verdict.check.valid).toBe(true);
    expect(context.badSnapshots).toEqual([]);
    expect(verdict.finalTotal).toBe(context.total);
    expect(verdict.internalErrorsCount).toBe(0);
    expect(context.counts.transfersCommitted).toBeGreaterThanOrEqual(20);
    expect(committedAt.filter((count) => count > 0).length).toBeGreaterThan(0); // transfers committed while reshapes ran
    expect(wide.committed).toBeGreaterThan(0);
    expect(wide.internalErrors).toBe(0);
    expect(verdict.leftTransactions, "no intent or transaction record is left in any group").toEqual({ "txr-a": { intents: 0, records: 0 }, "txr-b": { intents: 0, records: 0 } });
  }, 300_000);
});
