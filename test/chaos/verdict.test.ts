/**
 * Proves that the chaos campaign's verdict is not vacuous: small hand-made histories with a lost
 * acknowledged write, a value nobody wrote, a key that ends absent, or a stale read are judged
 * failures, while the same histories without the fault pass, and an `info` write that may land
 * late is never counted as a loss.
 */
import { describe, expect, it } from "vitest";
import { HistoryRecorder } from "../../src/checker/index.ts";
import { judge, passed, type FinalValues } from "../../scripts/chaos/verdict.ts";

/** Two acknowledged writes to "k" one after the other, then a final read of `finalValue`. */
function sequentialWrites(finalValue: string | null, secondOutcome: "ok" | "info" = "ok"): { recorder: HistoryRecorder; finals: FinalValues } {
  const recorder = new HistoryRecorder();
  recorder.invoke(0, "write", "k", "first");
  recorder.complete(0, "ok");
  recorder.invoke(0, "write", "k", "second");
  recorder.complete(0, secondOutcome);
  recorder.invoke(1, "read", "k", null);
  recorder.complete(1, "ok", finalValue);
  return { recorder, finals: new Map([["k", finalValue]]) };
}

describe("the chaos verdict", () => {
  it("passes a history whose final value is the last acknowledged write", () => {
    const { recorder, finals } = sequentialWrites("second");
    const verdict = judge(recorder.operations(), finals);
    expect(passed(verdict)).toBe(true);
    expect(verdict.lostWrites).toBe(0);
  });

  it("counts a lost write when the key ends at an older acknowledged value", () => {
    const { recorder, finals } = sequentialWrites("first");
    const verdict = judge(recorder.operations(), finals);
    expect(verdict.lostWrites).toBe(1);
    expect(verdict.check.linearizable).toBe(false);
    expect(passed(verdict)).toBe(false);
  });

  it("counts every acknowledged write as lost when the key ends absent", () => {
    const { recorder, finals } = sequentialWrites(null);
    expect(judge(recorder.operations(), finals).lostWrites).toBe(2);
  });

  it("flags a final value that no write produced", () => {
    const { recorder, finals } = sequentialWrites("invented");
    const verdict = judge(recorder.operations(), finals);
    expect(verdict.foreignValues).toBe(1);
    expect(passed(verdict)).toBe(false);
  });

  it("does not count a loss when the newer write's outcome is unknown", () => {
    const { recorder, finals } = sequentialWrites("first", "info");
    const verdict = judge(recorder.operations(), finals);
    expect(verdict.lostWrites).toBe(0);
    expect(passed(verdict)).toBe(true); // the unknown write may never have happened
  });

  it("fails a key no final read reached", () => {
    const { recorder } = sequentialWrites("second");
    const verdict = judge(recorder.operations(), new Map([["k", undefined]]));
    expect(verdict.unreadableKeys).toBe(1);
    expect(passed(verdict)).toBe(false);
  });
});
