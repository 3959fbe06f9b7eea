/**
 * Proves the in-memory HistoryRecorder: it records the same events a JSON Lines file holds (so its
 * serialization parses back to the same operations), treats calls still outstanding as info,
 * feeds checkHistory directly, and asserts on misuse a simulator must never commit.
 */
import { describe, expect, it } from "vitest";
import { checkHistory } from "../../src/checker/check.ts";
import { parseHistory } from "../../src/checker/parse.ts";
import { HistoryRecorder } from "../../src/checker/recorder.ts";
import { AssertionError } from "../../src/shared/assert.ts";

function sampleRecorder(): HistoryRecorder {
  const recorder = new HistoryRecorder();
  recorder.invoke(0, "write", "a", "1");
  recorder.invoke(1, "read", "a", null);
  recorder.complete(0, "ok");
  recorder.complete(1, "ok", "1");
  recorder.invoke(0, "cas", "a", ["0", "2"]);
  recorder.complete(0, "fail");
  recorder.invoke(2, "delete", "a", null);
  return recorder;
}

describe("HistoryRecorder", () => {
  it("records Jepsen-style events, echoing the invoke's value on completions other than reads", () => {
    expect(sampleRecorder().events()).toEqual([
      { process: 0, type: "invoke", f: "write", key: "a", value: "1", time: 0 },
      { process: 1, type: "invoke", f: "read", key: "a", value: null, time: 1 },
      { process: 0, type: "ok", f: "write", key: "a", value: "1", time: 2 },
      { process: 1, type: "ok", f: "read", key: "a", value: "1", time: 3 },
      { process: 0, type: "invoke", f: "cas", key: "a", value: ["0", "2"], time: 4 },
      { process: 0, type: "fail", f: "cas", key: "a", value: ["0", "2"], time: 5 },
      { process: 2, type: "invoke", f: "delete", key: "a", value: null, time: 6 },
    ]);
  });

  it("serializes to JSON Lines that parse back to the same events and operations", () => {
    const recorder = sampleRecorder();
    const parsed = parseHistory(recorder.toJsonLines());
    expect(parsed).toEqual({ ok: true, events: recorder.events(), operations: recorder.operations() });
  });

  it("counts a call still outstanding as info and checks without a file", () => {
    const recorder = sampleRecorder();
    expect(recorder.isOutstanding(2)).toBe(true);
    const operations = recorder.operations();
    expect(operations.map((operation) => operation.outcome)).toEqual(["ok", "ok", "fail", "info"]);
    expect(checkHistory(operations).linearizable).toBe(true);
    recorder.invoke(1, "read", "a", null);
    recorder.complete(1, "ok", "3");
    expect(checkHistory(recorder.operations()).outcome).toBe("violation");
  });

  it("uses the times it is given when they never decrease", () => {
    const recorder = new HistoryRecorder();
    recorder.invoke(0, "write", "a", "1", 100);
    recorder.complete(0, "info", null, 100);
    expect(recorder.events().map((event) => event.time)).toEqual([100, 100]);
  });

  it("asserts on misuse", () => {
    const recorder = new HistoryRecorder();
    recorder.invoke(0, "read", "a", null, 10);
    expect(() => recorder.invoke(0, "read", "a", null)).toThrow(AssertionError);
    expect(() => recorder.complete(1, "ok")).toThrow(AssertionError);
    expect(() => recorder.complete(0, "ok", null, 9)).toThrow(AssertionError);
    expect(() => recorder.invoke(1, "write", "a", null)).toThrow(AssertionError);
    expect(() => recorder.invoke(1, "cas", "a", "1")).toThrow(AssertionError);
    expect(() => recorder.invoke(-1, "read", "a", null)).toThrow(AssertionError);
  });
});
