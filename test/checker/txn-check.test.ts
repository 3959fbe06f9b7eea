/**
 * Proves the transaction checker on small hand-written histories: a serial history and
 * indeterminate transactions (observed or not) are accepted, and each anomaly class is found and
 * named — G0, G1a, G1b, G1c, G-single (lost update, fractured read), G2 (write skew), a stale read
 * against real time, a read of a value nobody wrote, two writes with one version — with the
 * transactions of the cycle in the description; and a 20,000-transaction history is checked in
 * seconds, not minutes.
 */
import { describe, expect, it } from "vitest";
import { anomalyKinds, checkTxnHistory, describeTxnAnomalies, describeTxnSummary, generateTxnHistory, TxnHistoryRecorder } from "../../src/checker/index.ts";
import { createRng } from "../../src/shared/rng.ts";
import type { TxnRequest, TxnResponse } from "../../src/checker/index.ts";

const put = (key: string, value: string) => ({ op: "put" as const, key, value });
const read = (key: string, value: string | null, version: number) => ({ key, found: value !== null, value, version });
const request = (part: Partial<TxnRequest>): TxnRequest => ({ reads: [], checks: [], writes: [], ...part });

/** A history where `seed` put x = "x0" @1 and y = "y0" @2, then whatever `body` records. */
function history(body: (recorder: TxnHistoryRecorder) => void): TxnHistoryRecorder {
  const recorder = new TxnHistoryRecorder();
  recorder.invoke(0, request({ writes: [put("x", "x0"), put("y", "y0")] }));
  recorder.ok(0, { reads: [], versions: { x: 1, y: 2 } });
  body(recorder);
  return recorder;
}

function serially(recorder: TxnHistoryRecorder, process: number, asked: Partial<TxnRequest>, response: TxnResponse | "fail" | "info"): void {
  recorder.invoke(process, request(asked));
  if (response === "fail") recorder.fail(process);
  else if (response === "info") recorder.info(process);
  else recorder.ok(process, response);
}

function verdict(recorder: TxnHistoryRecorder) {
  const operations = recorder.operations();
  const result = checkTxnHistory(operations);
  return { result, kinds: anomalyKinds(result), text: describeTxnAnomalies(result, operations).join("\n") };
}

describe("the transaction checker", () => {
  it("accepts a serial history of transfers and snapshot reads", () => {
    const recorder = history((r) => {
      serially(r, 1, { checks: [{ key: "x", version: 1 }, { key: "y", version: 2 }], writes: [put("x", "x1"), put("y", "y1")] }, { reads: [], versions: { x: 3, y: 4 } });
      serially(r, 2, { reads: ["x", "y"] }, { reads: [read("x", "x1", 3), read("y", "y1", 4)], versions: {} });
      serially(r, 1, { checks: [{ key: "x", version: 1 }], writes: [put("x", "x2")] }, "fail");
      serially(r, 2, { reads: ["x", "z"] }, { reads: [read("x", "x1", 3), read("z", null, 0)], versions: {} });
    });
    const { result, kinds } = verdict(recorder);
    expect(kinds).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result.edgesCount.ww).toBe(2);
    expect(result.edgesCount.wr).toBe(5);
    expect(describeTxnSummary(result)).toMatch(/^strict serializable: 5 transactions \(4 committed, 1 failed, 0 indeterminate/);
  });

  it("accepts an indeterminate transaction whose write was read, and counts it as committed", () => {
    const recorder = history((r) => {
      serially(r, 1, { writes: [put("x", "x1")] }, "info");
      serially(r, 2, { reads: ["x"] }, { reads: [read("x", "x1", 7)], versions: {} });
      serially(r, 3, { writes: [put("y", "never-seen")] }, "info");
    });
    const { result, kinds } = verdict(recorder);
    expect(kinds).toEqual([]);
    expect(result.observedIndeterminateCount).toBe(1);
    expect(result.committedCount).toBe(3);
  });

  it("finds G0: two transactions that wrote x and y in opposite version orders", () => {
    const recorder = history((r) => {
      r.invoke(1, request({ writes: [put("x", "a"), put("y", "a")] }));
      r.invoke(2, request({ writes: [put("x", "b"), put("y", "b")] }));
      r.ok(1, { reads: [], versions: { x: 10, y: 13 } });
      r.ok(2, { reads: [], versions: { x: 11, y: 12 } });
    });
    const { kinds, text } = verdict(recorder);
    expect(kinds).toEqual(["G0"]);
    expect(text).toContain('-ww "x" @10 then @11->');
    expect(text).toContain('-ww "y" @12 then @13->');
  });

  it("finds G1a: a read of a value written by a transaction that failed", () => {
    const recorder = history((r) => {
      serially(r, 1, { writes: [put("x", "aborted")] }, "fail");
      serially(r, 2, { reads: ["x"] }, { reads: [read("x", "aborted", 5)], versions: {} });
    });
    const { kinds, text } = verdict(recorder);
    expect(kinds).toEqual(["G1a"]);
    expect(text).toContain('T2 read "x" = "aborted" at version 5, written by T1, which aborted');
  });

  it("finds G1b: a read of a value a transaction overwrote before it committed", () => {
    const recorder = history((r) => {
      serially(r, 1, { writes: [put("x", "first"), put("x", "second")] }, { reads: [], versions: { x: 4 } });
      serially(r, 2, { reads: ["x"] }, { reads: [read("x", "first", 3)], versions: {} });
    });
    expect(verdict(recorder).kinds).toEqual(["G1b"]);
  });

  it("finds G1c: two transactions that each read the other's write", () => {
    const recorder = history((r) => {
      r.invoke(1, request({ reads: ["y"], writes: [put("x", "x1")] }));
      r.invoke(2, request({ reads: ["x"], writes: [put("y", "y1")] }));
      r.ok(1, { reads: [read("y", "y1", 6)], versions: { x: 5 } });
      r.ok(2, { reads: [read("x", "x1", 5)], versions: { y: 6 } });
    });
    expect(verdict(recorder).kinds).toEqual(["G1c"]);
  });

  it("finds G-single in a lost update: two transfers checked the same version and both committed", () => {
    const recorder = history((r) => {
      r.invoke(1, request({ checks: [{ key: "x", version: 1 }], writes: [put("x", "x1")] }));
      r.invoke(2, request({ checks: [{ key: "x", version: 1 }], writes: [put("x", "x2")] }));
      r.ok(1, { reads: [], versions: { x: 3 } });
      r.ok(2, { reads: [], versions: { x: 4 } });
    });
    const { kinds, text } = verdict(recorder);
    expect(kinds).toEqual(["G-single"]);
    expect(text).toContain('-rw "x" read @1, overwritten @3->');
  });

  it("finds G-single in a fractured read: a snapshot saw one of a transaction's two writes", () => {
    const recorder = history((r) => {
      r.invoke(1, request({ writes: [put("x", "x1"), put("y", "y1")] }));
      r.invoke(2, request({ reads: ["x", "y"] }));
      r.ok(1, { reads: [], versions: { x: 3, y: 4 } });
      r.ok(2, { reads: [read("x", "x1", 3), read("y", "y0", 2)], versions: {} });
    });
    expect(verdict(recorder).kinds).toEqual(["G-single"]);
  });

  it("finds G2 in a write skew: each transaction read both keys and wrote the other one", () => {
    const recorder = history((r) => {
      r.invoke(1, request({ reads: ["x", "y"], writes: [put("x", "x1")] }));
      r.invoke(2, request({ reads: ["x", "y"], writes: [put("y", "y1")] }));
      r.ok(1, { reads: [read("x", "x0", 1), read("y", "y0", 2)], versions: { x: 3 } });
      r.ok(2, { reads: [read("x", "x0", 1), read("y", "y0", 2)], versions: { y: 4 } });
    });
    const { result, kinds } = verdict(recorder);
    expect(kinds).toEqual(["G2"]);
    expect(result.serializable).toBe(false);
  });

  it("finds a stale read against real time (G-single-realtime), which is serializable but not strictly", () => {
    const recorder = history((r) => {
      serially(r, 1, { writes: [put("x", "x1")] }, { reads: [], versions: { x: 3 } });
      serially(r, 2, { reads: ["x"] }, { reads: [read("x", "x0", 1)], versions: {} });
    });
    const { result, kinds, text } = verdict(recorder);
    expect(kinds).toEqual(["G-single-realtime"]);
    expect(result.serializable).toBe(true);
    expect(result.valid).toBe(false);
    expect(text).toContain("-rt completed before invoked->");
  });

  it("finds a read of a value nobody wrote, and two writes that report one version", () => {
    const recorder = history((r) => {
      serially(r, 1, { reads: ["x"] }, { reads: [read("x", "ghost", 9)], versions: {} });
      serially(r, 2, { writes: [put("y", "y1")] }, { reads: [], versions: { y: 2 } });
    });
    expect(verdict(recorder).kinds).toEqual(["duplicate-version", "garbage-read"]);
  });

  it("checks 20,000 generated transactions of 16 clients in seconds", () => {
    const recorder = new TxnHistoryRecorder();
    generateTxnHistory({ rng: createRng(9), transactionsCount: 20_000, keysCount: 10, processesCount: 16, infoProbability: 0.02, deleteProbability: 0 }, recorder);
    const operations = recorder.operations();
    const began = performance.now();
    const result = checkTxnHistory(operations);
    const elapsedMs = performance.now() - began;
    expect(result.valid).toBe(true);
    expect(result.edgesCount.rw).toBeGreaterThan(10_000);
    expect(elapsedMs).toBeLessThan(15_000);
  });
});
