/**
 * What a chaos scenario's history proves: the checker's linearizability verdict, plus two direct
 * counts that need no search. A final value no invoked write wrote (or one whose write failed) is
 * corruption. An acknowledged write is certainly lost when the key ends at a value whose write
 * was acknowledged before that write was even invoked (or ends absent although a write was
 * acknowledged): nothing can order the older value last. The counts are sound, not complete;
 * the checker is the complete judge.
 */
import { checkHistory, describeKeyFailure, type CheckResult, type Operation } from "../../src/checker/index.ts";

/** The final value read back for each key (undefined: no final read succeeded). */
export type FinalValues = Map<string, string | null | undefined>;

/** The verdict on one scenario's history. */
export interface Verdict {
  check: CheckResult;
  /** Lines explaining each non-linearizable key. */
  failureLines: string[];
  /** Acknowledged writes that the final state certainly lost. */
  lostWrites: number;
  /** Keys whose final value no invoked write can explain. */
  foreignValues: number;
  /** Keys no final read could reach. */
  unreadableKeys: number;
  /** Human-readable notes on the two direct counts. */
  notes: string[];
}

/** Search budget: ten times the checker's default, still seconds of work. */
const checkStepsMax = 200_000_000;

/** Checks `operations` and counts lost writes and foreign values against `finals`. */
export function judge(operations: readonly Operation[], finals: FinalValues): Verdict {
  const check = checkHistory(operations, { stepsMax: checkStepsMax });
  const failureLines = check.keys.filter((key) => key.outcome === "violation").flatMap(describeKeyFailure);
  const verdict: Verdict = { check, failureLines, lostWrites: 0, foreignValues: 0, unreadableKeys: 0, notes: [] };
  for (const [key, finalValue] of finals) {
    if (finalValue === undefined) {
      verdict.unreadableKeys += 1;
      verdict.notes.push(`key ${JSON.stringify(key)}: no final read succeeded`);
      continue;
    }
    countKey(verdict, key, finalValue, operations.filter((operation) => operation.key === key));
  }
  return verdict;
}

function countKey(verdict: Verdict, key: string, finalValue: string | null, operations: readonly Operation[]): void {
  const writes = operations.filter((operation) => operation.f === "write" || operation.f === "cas");
  const acknowledged = writes.filter((operation) => operation.outcome === "ok");
  if (finalValue === null) {
    // Nothing deletes: a key that ends absent lost every acknowledged write to it.
    if (acknowledged.length > 0) verdict.notes.push(`key ${JSON.stringify(key)}: ends absent after ${acknowledged.length} acknowledged writes`);
    verdict.lostWrites += acknowledged.length;
    return;
  }
  const writer = writes.find((operation) => operation.value === finalValue);
  if (writer === undefined || writer.outcome === "fail") {
    verdict.foreignValues += 1;
    verdict.notes.push(`key ${JSON.stringify(key)}: final value ${JSON.stringify(finalValue)} ${writer === undefined ? "was never written" : "comes from a failed write"}`);
    return;
  }
  if (writer.outcome !== "ok" || writer.completeTime === null) return; // an info write may take effect at any time
  const writtenAt = writer.completeTime;
  const lost = acknowledged.filter((operation) => operation.invokeTime > writtenAt);
  if (lost.length > 0) verdict.notes.push(`key ${JSON.stringify(key)}: ends at ${JSON.stringify(finalValue)} though ${lost.length} later writes were acknowledged`);
  verdict.lostWrites += lost.length;
}

/** Whether the verdict is a pass: linearizable, nothing lost, nothing foreign, every key readable. */
export function passed(verdict: Verdict): boolean {
  return verdict.check.linearizable && verdict.lostWrites === 0 && verdict.foreignValues === 0 && verdict.unreadableKeys === 0;
}
