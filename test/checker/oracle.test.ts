/**
 * Proves the checker exact on small histories: for random concurrent histories of up to eight
 * operations over two keys, with every outcome, its verdict (and that of each search order alone)
 * equals a brute-force search over every order and every choice of which info operations happened.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkHistory } from "../../src/checker/check.ts";
import type { HistoryEvent, Operation, OperationFunction, Value } from "../../src/checker/history.ts";
import { pairEvents } from "../../src/checker/pair-events.ts";
import { prepareKey } from "../../src/checker/prepare.ts";
import { LinearizationSearch } from "../../src/checker/search.ts";

interface CallSpecification {
  f: OperationFunction;
  key: string;
  value: Value;
  expected: Value;
  completion: "ok" | "fail" | "info" | "none";
  start: number;
  duration: number;
}

const valueArbitrary = fc.constantFrom<Value>(null, "1", "2");
const callArbitrary: fc.Arbitrary<CallSpecification> = fc.record({
  f: fc.constantFrom<OperationFunction>("read", "read", "write", "delete", "cas"),
  key: fc.constantFrom("a", "b"),
  value: valueArbitrary,
  expected: valueArbitrary,
  completion: fc.constantFrom<CallSpecification["completion"]>("ok", "ok", "ok", "fail", "info", "none"),
  start: fc.integer({ min: 0, max: 12 }),
  duration: fc.integer({ min: 1, max: 6 }),
});

/** Builds the history: one process per call, events ordered by time (stable, so invokes of equal time keep call order). */
function buildOperations(calls: readonly CallSpecification[]): Operation[] {
  const timed: Array<{ time: number; order: number; event: HistoryEvent }> = [];
  calls.forEach((call, process) => {
    const written = call.f === "write" ? (call.value ?? "0") : null;
    const invokeValue = call.f === "cas" ? ([call.expected, call.value] as const) : written;
    timed.push({ time: call.start, order: timed.length, event: { process, type: "invoke", f: call.f, key: call.key, value: invokeValue, time: call.start } });
    if (call.completion === "none") return;
    const time = call.start + call.duration;
    const value = call.f === "read" ? call.value : invokeValue;
    timed.push({ time, order: timed.length, event: { process, type: call.completion, f: call.f, key: call.key, value, time } });
  });
  timed.sort((left, right) => left.time - right.time || left.order - right.order);
  const paired = pairEvents(timed.map((entry) => entry.event));
  if (!paired.ok) throw new Error(paired.message);
  return paired.operations;
}

/** Brute force straight from the definition: place required operations, optionally info ones, in every order. */
function isLinearizableByBruteForce(operations: readonly Operation[]): boolean {
  const relevant = operations.filter((operation) => !(operation.outcome === "fail" && operation.f !== "cas") && !(operation.f === "read" && operation.outcome !== "ok"));
  const isRequired = relevant.map((operation) => operation.outcome !== "info");
  const placed = relevant.map(() => false);
  const search = (values: Map<string, Value>): boolean => {
    if (relevant.every((_, index) => placed[index] || !isRequired[index])) return true;
    for (let index = 0; index < relevant.length; index++) {
      if (placed[index]) continue;
      const operation = relevant[index]!;
      const isBlocked = relevant.some((other, otherIndex) => !placed[otherIndex] && isRequired[otherIndex] && other.completePosition < operation.invokePosition);
      if (isBlocked) continue;
      const current = values.get(operation.key) ?? null;
      const after = effect(operation, current);
      if (after === undefined) continue;
      placed[index] = true;
      const next = new Map(values).set(operation.key, after);
      const found = search(next);
      placed[index] = false;
      if (found) return true;
    }
    return false;
  };
  return search(new Map());
}

/** The value after `operation` takes effect on `current`, or undefined when it cannot take effect there. */
function effect(operation: Operation, current: Value): Value | undefined {
  switch (operation.f) {
    case "read":
      return operation.value === current ? current : undefined;
    case "write":
      return operation.value;
    case "delete":
      return null;
    case "cas":
      if (operation.outcome === "fail") return current !== operation.expected ? current : undefined;
      if (operation.outcome === "ok") return current === operation.expected ? operation.value : undefined;
      return current === operation.expected ? operation.value : current;
  }
}

function isLinearizableByOrder(operations: readonly Operation[], order: "first" | "last"): boolean {
  const keys = new Set(operations.map((operation) => operation.key));
  return [...keys].every((key) => {
    const search = new LinearizationSearch(prepareKey(operations.filter((operation) => operation.key === key)), order);
    const outcome = search.run(1_000_000);
    expect(outcome).not.toBe("unknown");
    return outcome === "linearizable";
  });
}

describe("the checker against a brute-force oracle", () => {
  it("agrees on every small random history, for the race and for each info order alone", () => {
    let violations = 0;
    fc.assert(
      fc.property(fc.array(callArbitrary, { minLength: 1, maxLength: 8 }), (calls) => {
        const operations = buildOperations(calls);
        const expected = isLinearizableByBruteForce(operations);
        if (!expected) violations++;
        expect(checkHistory(operations).linearizable).toBe(expected);
        expect(isLinearizableByOrder(operations, "first")).toBe(expected);
        expect(isLinearizableByOrder(operations, "last")).toBe(expected);
      }),
      { numRuns: 3000, seed: 20240611 },
    );
    // The generator must produce both verdicts often, or the agreement proves little.
    expect(violations).toBeGreaterThan(300);
    expect(violations).toBeLessThan(2700);
  });

  it("agrees on histories made mostly of info and cas operations", () => {
    const infoHeavy = callArbitrary.map((call) => ({ ...call, key: "a", completion: call.completion === "ok" && call.f !== "read" ? ("info" as const) : call.completion }));
    fc.assert(
      fc.property(fc.array(infoHeavy, { minLength: 1, maxLength: 8 }), (calls) => {
        const operations = buildOperations(calls);
        expect(checkHistory(operations).linearizable).toBe(isLinearizableByBruteForce(operations));
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});
