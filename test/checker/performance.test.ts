/**
 * Proves the checker decides realistic histories within its default budget: a generated
 * concurrent history of 5,000 operations over 20 keys from 8 processes, with lost answers and
 * failures, is found linearizable, and the same history with one stale read is found not
 * linearizable on that read's key. It asserts verdicts, not times.
 */
import { describe, expect, it } from "vitest";
import { checkHistory } from "../../src/checker/check.ts";
import { generateHistory } from "../../src/checker/generate-history.ts";
import type { Operation } from "../../src/checker/history.ts";
import { pairEvents } from "../../src/checker/pair-events.ts";
import { createRng } from "../../src/shared/rng.ts";

function generatedOperations(seed: number): Operation[] {
  const events = generateHistory({ rng: createRng(seed), operationsCount: 5_000, keysCount: 20, processesCount: 8, infoProbability: 0.05, failProbability: 0.05 });
  const paired = pairEvents(events);
  if (!paired.ok) throw new Error(paired.message);
  return paired.operations;
}

describe("checker performance", () => {
  it("finds a 5,000-operation, 20-key, 8-process history linearizable", () => {
    const operations = generatedOperations(1);
    expect(operations).toHaveLength(5_000);
    const result = checkHistory(operations);
    expect(result.outcome).toBe("linearizable");
    expect(result.keysCount).toBe(20);
  });

  it("finds a stale read in the middle of the same history", () => {
    const operations = generatedOperations(1);
    // A read in the middle now returns a value its key held long before (overwritten since).
    const reads = operations.filter((operation) => operation.f === "read" && operation.outcome === "ok");
    const middle = reads[Math.floor(reads.length / 2)]!;
    const earlier = operations.find((operation) => operation.key === middle.key && operation.f === "write" && operation.outcome === "ok" && operation.value !== middle.value)!;
    const staleValue = earlier.value;
    const overwrittenLater = operations.some((operation) => operation.key === middle.key && operation.f === "write" && operation.outcome === "ok" && operation.invokePosition > earlier.completePosition && operation.completePosition < middle.invokePosition);
    expect(overwrittenLater).toBe(true);
    const mutated = operations.map((operation) => (operation === middle ? { ...operation, value: staleValue } : operation));
    const result = checkHistory(mutated);
    expect(result.outcome).toBe("violation");
    expect(result.keys.filter((key) => key.outcome === "violation").map((key) => key.key)).toEqual([middle.key]);
  });
});
