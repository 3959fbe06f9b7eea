/**
 * Proves that splits, merges and moves commit while transactions hold intents and records in the
 * spans they move: the multi-group simulator runs with a busy bank (8 transfer processes) beside
 * the reshaping under the full fault mix, and every seed passes its checks (bank total, snapshot
 * sums, no intent or record left after healing, linearizable history), sagas committed carrying
 * intents and transaction records in their pages, and no saga rolled back for any reason but an
 * operator's cancel or a racing operation (before intents travelled, a span holding any refused
 * to freeze and its saga rolled back).
 */
import { describe, expect, it } from "vitest";
import { multiGroupReplayCommand, runMultiGroup } from "./multigroup-runner.ts";

const seeds = [1, 2, 3, 4, 5, 6];
const steps = 2000;
/** Why a saga may roll back without any transaction involved: an operator's cancel, or another operation that changed the span first. */
const benignReasons = ["cancelled by an operator", "the span overlaps a span another operation froze", "the span is not owned by this group", "the span was not installed by this operation"];

describe("reshaping under a busy bank", () => {
  it(`commits sagas that carry intents and records (seeds ${seeds.join(", ")}, ${steps} steps)`, () => {
    const failures: string[] = [];
    const totals = { sagasDone: 0, sagasRolledBack: 0, carryingTxns: 0, intents: 0, records: 0, committedTransfers: 0 };
    const reasons: Record<string, number> = {};
    for (const seed of seeds) {
      const result = runMultiGroup({ seed, steps, bankTransferProcesses: 8 });
      if (result.failure !== null) failures.push(`seed ${seed} (${result.phase}): ${result.failure}\n  replay: ${multiGroupReplayCommand(seed, steps)} (with bankTransferProcesses 8)`);
      totals.sagasDone += result.reshape.sagasDone;
      totals.sagasRolledBack += result.reshape.sagasRolledBack;
      totals.carryingTxns += result.reshape.sagasDoneCarryingTxns;
      totals.intents += result.reshape.carriedIntents;
      totals.records += result.reshape.carriedTxnRecords;
      totals.committedTransfers += result.bank.committed;
      for (const [reason, count] of Object.entries(result.reshape.rolledBackReasons)) reasons[reason] = (reasons[reason] ?? 0) + count;
    }
    expect(failures).toEqual([]);
    expect(Object.keys(reasons).filter((reason) => !benignReasons.includes(reason))).toEqual([]);
    expect(totals.carryingTxns).toBeGreaterThanOrEqual(3);
    expect(totals.intents).toBeGreaterThan(0);
    expect(totals.records).toBeGreaterThan(0);
    expect(totals.sagasDone).toBeGreaterThan(totals.sagasRolledBack);
    expect(totals.committedTransfers).toBeGreaterThan(0);
  }, 180_000);
});
