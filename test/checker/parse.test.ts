/**
 * Proves the history parser: well-formed JSON Lines become paired operations with the outcomes the
 * event model defines, serializing and parsing again changes nothing, and each kind of malformed
 * input is rejected with the 1-based line it is on (blank lines counted) and what is wrong.
 */
import { describe, expect, it } from "vitest";
import { formatHistory, parseHistory } from "../../src/checker/parse.ts";

/** One event line; `fields` override the defaults of a write invoke. */
function line(fields: Record<string, unknown>): string {
  return JSON.stringify({ process: 0, type: "invoke", f: "write", key: "k", value: "1", time: 0, ...fields });
}

function errorOf(text: string): { line: number; message: string } {
  const result = parseHistory(text);
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error("unreachable");
  return { line: result.line, message: result.message };
}

describe("parseHistory on well-formed input", () => {
  it("pairs invokes with completions and reads each outcome", () => {
    const text = [
      line({ process: 0, f: "write", value: "1", time: 1 }),
      line({ process: 1, f: "read", value: null, time: 2 }),
      "",
      line({ process: 0, type: "ok", time: 3 }),
      line({ process: 1, type: "ok", f: "read", value: "1", time: 4 }),
      line({ process: 2, f: "cas", value: ["1", "2"], time: 5 }),
      line({ process: 2, type: "fail", f: "cas", value: ["1", "2"], time: 6 }),
      line({ process: 3, f: "delete", value: null, time: 7 }),
      line({ process: 3, type: "info", f: "delete", value: null, time: 8 }),
      line({ process: 4, f: "write", value: "9", time: 9 }),
    ].join("\n");
    const result = parseHistory(text);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const summary = result.operations.map((operation) => [operation.process, operation.f, operation.outcome, operation.value, operation.expected]);
    expect(summary).toEqual([
      [0, "write", "ok", "1", null],
      [1, "read", "ok", "1", null],
      [2, "cas", "fail", "2", "1"],
      [3, "delete", "info", null, null],
      [4, "write", "info", "9", null],
    ]);
    const [write, , , deletion, unfinished] = result.operations;
    expect([write!.invokePosition, write!.completePosition, write!.completeTime]).toEqual([0, 2, 3]);
    expect([deletion!.completePosition, deletion!.completeTime]).toEqual([Infinity, 8]);
    expect([unfinished!.completePosition, unfinished!.completeTime]).toEqual([Infinity, null]);
    expect(result.events).toHaveLength(9);
  });

  it("accepts completions without f, key or value, taking them from the invoke", () => {
    const text = [line({ time: 1 }), JSON.stringify({ process: 0, type: "ok", time: 2 })].join("\n");
    const result = parseHistory(text);
    expect(result.ok && result.events[1]).toEqual({ process: 0, type: "ok", f: "write", key: "k", value: "1", time: 2 });
  });

  it("keeps equal times in file order and round-trips through formatHistory", () => {
    const text = [line({ process: 0, time: 5 }), line({ process: 1, value: "2", time: 5 }), line({ process: 1, type: "ok", value: "2", time: 5 })].join("\n");
    const result = parseHistory(text);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.operations.map((operation) => operation.invokePosition)).toEqual([0, 1]);
    const again = parseHistory(formatHistory(result.events));
    expect(again).toEqual(result);
  });

  it("reads an empty history as no operations", () => {
    expect(parseHistory("\n\n")).toEqual({ ok: true, events: [], operations: [] });
  });
});

describe("parseHistory rejects malformed input with its line", () => {
  const cases: Array<[string, string[], number, RegExp]> = [
    ["bad JSON", [line({}), "{not json"], 2, /invalid JSON/],
    ["a line that is not an object", ["[1, 2]"], 1, /must be a JSON object/],
    ["a missing process", [JSON.stringify({ type: "invoke", f: "read", key: "k", time: 1 })], 1, /missing field "process"/],
    ["a missing type", [JSON.stringify({ process: 0, f: "read", key: "k", time: 1 })], 1, /missing field "type"/],
    ["a missing time", [JSON.stringify({ process: 0, type: "invoke", f: "read", key: "k" })], 1, /missing field "time"/],
    ["a missing f on an invoke", [JSON.stringify({ process: 0, type: "invoke", key: "k", time: 1 })], 1, /missing field "f"/],
    ["a missing key on an invoke", [JSON.stringify({ process: 0, type: "invoke", f: "read", time: 1 })], 1, /missing field "key"/],
    ["a write without a value", [JSON.stringify({ process: 0, type: "invoke", f: "write", key: "k", time: 1 })], 1, /missing field "value"/],
    ["an unknown type", [line({ type: "done" })], 1, /unknown type "done"/],
    ["an unknown f", [line({ f: "increment" })], 1, /unknown f "increment"/],
    ["a negative process", [line({ process: -1 })], 1, /"process" must be a non-negative integer/],
    ["a fractional process", [line({ process: 1.5 })], 1, /"process" must be a non-negative integer/],
    ["a time that is not a number", [line({ time: "noon" })], 1, /"time" must be a finite number/],
    ["a key that is not a string", [line({ key: 7 })], 1, /"key" must be a string/],
    ["a write of a number", [line({ value: 7 })], 1, /a write's value must be a string/],
    ["a read invoke with a value", [line({ f: "read", value: "1" })], 1, /a read invoke must have value null/],
    ["a cas value that is not an array", [line({ f: "cas", value: "1" })], 1, /cas value must be a 2-element array/],
    ["a cas value of three elements", [line({ f: "cas", value: ["1", "2", "3"] })], 1, /cas value must be a 2-element array/],
    ["a cas value with a number", [line({ f: "cas", value: ["1", 2] })], 1, /cas value must be a 2-element array/],
    ["time going backwards", [line({ time: 5 }), "", line({ type: "ok", time: 4 })], 3, /time 4 is before the previous event's time 5/],
    ["a completion without an invoke", [line({}), line({ process: 1, type: "ok" })], 2, /process 1 completes \(ok\) without an outstanding invoke/],
    ["a second invoke while one is outstanding", [line({}), line({ f: "read", value: null })], 2, /process 0 invokes again while its write/],
    ["a completion of another function", [line({}), line({ type: "ok", f: "read" })], 2, /completion f "read" does not match the invoke's f "write"/],
    ["a completion on another key", [line({}), line({ type: "ok", key: "other" })], 2, /completion key "other" does not match/],
    ["a read ok without a value", [line({ f: "read", value: null }), JSON.stringify({ process: 0, type: "ok", time: 1 })], 2, /missing field "value" \(the value read\)/],
    ["a read ok of a cas pair", [line({ f: "read", value: null }), line({ type: "ok", f: "read", value: ["1", "2"] })], 2, /a read ok's value must be a string or null/],
  ];
  for (const [name, lines, lineNumber, message] of cases) {
    it(`reports ${name}`, () => {
      const error = errorOf(lines.join("\n"));
      expect(error.line).toBe(lineNumber);
      expect(error.message).toMatch(message);
    });
  }
});
