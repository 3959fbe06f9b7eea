/**
 * Proves with fast-check that the checker accepts what a correct register produces and rejects a
 * read of a value nobody wrote: random sequential histories driven through a reference key-value
 * model (with fail and info outcomes) are linearizable, and so are the concurrent histories of
 * generateHistory; changing one read to a never-written value makes either one not linearizable.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkHistory } from "../../src/checker/check.ts";
import { generateHistory } from "../../src/checker/generate-history.ts";
import type { Operation, OperationFunction, Value } from "../../src/checker/history.ts";
import { HistoryRecorder } from "../../src/checker/recorder.ts";
import { createRng } from "../../src/shared/rng.ts";

/** What happens to a call: it takes effect and says so, fails without effect, or loses its answer. */
type Fate = "ok" | "fail" | "infoApplied" | "infoLost";

interface Command {
  f: OperationFunction;
  key: string;
  value: string;
  expected: Value;
  fate: Fate;
  process: number;
}

const commandArbitrary: fc.Arbitrary<Command> = fc.record({
  f: fc.constantFrom<OperationFunction>("read", "read", "write", "write", "delete", "cas", "cas"),
  key: fc.constantFrom("a", "b", "c"),
  value: fc.constantFrom("1", "2", "3"),
  expected: fc.constantFrom<Value>(null, "1", "2", "3"),
  fate: fc.constantFrom<Fate>("ok", "ok", "ok", "ok", "fail", "infoApplied", "infoLost"),
  process: fc.integer({ min: 0, max: 3 }),
});

/** Runs the commands one at a time against a Map, recording what a correct register would answer. */
function sequentialHistory(commands: readonly Command[]): Operation[] {
  const register = new Map<string, Value>();
  const recorder = new HistoryRecorder();
  for (const command of commands) {
    const argument = command.f === "write" ? command.value : command.f === "cas" ? ([command.expected, command.value] as const) : null;
    recorder.invoke(command.process, command.f, command.key, argument);
    const current = register.get(command.key) ?? null;
    // A cas that compares never "fails without effect": its fail is the answer "did not match".
    const applies = command.fate !== "infoLost" && (command.fate !== "fail" || command.f === "cas");
    let swapped = false;
    if (applies) {
      if (command.f === "write") register.set(command.key, command.value);
      if (command.f === "delete") register.set(command.key, null);
      if (command.f === "cas" && current === command.expected) {
        register.set(command.key, command.value);
        swapped = true;
      }
    }
    if (command.fate === "infoApplied" || command.fate === "infoLost") recorder.complete(command.process, "info");
    else if (command.f === "cas") recorder.complete(command.process, swapped ? "ok" : "fail");
    else recorder.complete(command.process, command.fate === "fail" ? "fail" : "ok", command.f === "read" ? current : null);
  }
  return recorder.operations();
}

/** A copy of `operations` where the `choice`-th successful read returned a value nobody wrote. */
function withNeverWrittenRead(operations: readonly Operation[], choice: number): Operation[] | null {
  const reads = operations.filter((operation) => operation.f === "read" && operation.outcome === "ok");
  if (reads.length === 0) return null;
  const target = reads[choice % reads.length]!;
  return operations.map((operation) => (operation === target ? { ...operation, value: "never-written" } : operation));
}

describe("properties of the checker", () => {
  it("accepts every sequential history of a reference key-value model", () => {
    fc.assert(
      fc.property(fc.array(commandArbitrary, { maxLength: 60 }), (commands) => {
        const result = checkHistory(sequentialHistory(commands));
        expect(result.outcome).toBe("linearizable");
      }),
      { numRuns: 500 },
    );
  });

  it("rejects the same history once one read returns a never-written value, on that read's key", () => {
    fc.assert(
      fc.property(fc.array(commandArbitrary, { minLength: 1, maxLength: 60 }), fc.nat(), (commands, choice) => {
        const mutated = withNeverWrittenRead(sequentialHistory(commands), choice);
        fc.pre(mutated !== null);
        const result = checkHistory(mutated!);
        expect(result.outcome).toBe("violation");
        const target = mutated!.find((operation) => operation.value === "never-written")!;
        const failing = result.keys.filter((key) => key.outcome === "violation").map((key) => key.key);
        expect(failing).toEqual([target.key]);
      }),
      { numRuns: 500 },
    );
  });

  it("accepts concurrent generated histories and rejects them with a never-written read", () => {
    fc.assert(
      fc.property(fc.integer(), fc.nat(), (seed, choice) => {
        const recorder = new HistoryRecorder();
        const events = generateHistory({ rng: createRng(seed), operationsCount: 300, keysCount: 3, processesCount: 6, infoProbability: 0.1, failProbability: 0.05 });
        for (const event of events) {
          if (event.type === "invoke") recorder.invoke(event.process, event.f, event.key, event.value, event.time);
          else recorder.complete(event.process, event.type, event.f === "read" ? (event.value as Value) : null, event.time);
        }
        const operations = recorder.operations();
        expect(checkHistory(operations).outcome).toBe("linearizable");
        const mutated = withNeverWrittenRead(operations, choice);
        if (mutated !== null) expect(checkHistory(mutated).outcome).toBe("violation");
      }),
      { numRuns: 40 },
    );
  });
});
