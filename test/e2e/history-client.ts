/**
 * One recorded client of the end-to-end consistency tests: writes, reads and compare-and-sets
 * keys through the public API while `running()` holds, recording every operation for the
 * linearizability checker, and noting every request that failed (anything but 200, 404 or 412).
 */
import { expect } from "vitest";
import { checkHistory, describeKeyFailure, type HistoryRecorder } from "../../src/checker/index.ts";
import { call as suiteCall } from "./client.ts";

/** Which keys a client uses and how it reaches them. */
export interface HistoryClientOptions {
  readonly process: number;
  readonly history: HistoryRecorder;
  readonly running: () => boolean;
  /** The key of the client's n-th operation. */
  readonly keyOf: (n: number) => string;
  /** The URL path of a key. */
  readonly pathOf: (key: string) => string;
  /** Failed requests, described, are pushed here. */
  readonly failures?: string[];
  /** Sends a request (default: to the suite's wrangler dev with the admin token). */
  readonly call?: (path: string, init?: RequestInit) => Promise<Response>;
}

/** Runs one client: every third operation a write, the others reads, every third read followed by a compare-and-set. */
export async function historyClient(options: HistoryClientOptions): Promise<void> {
  const { process, history, running, keyOf, pathOf } = options;
  const call = options.call ?? suiteCall;
  const failed = (what: string, status: number) => options.failures?.push(`${what}: ${status}`);
  for (let n = 0; running(); n++) {
    const key = keyOf(n);
    const value = `p${process}-${n}`;
    if (n % 3 === 0) {
      history.invoke(process, "write", key, value);
      const response = await call(pathOf(key), { method: "PUT", body: value });
      if (response.status !== 200) failed(`PUT ${key}`, response.status);
      history.complete(process, response.status === 200 ? "ok" : "info");
      continue;
    }
    history.invoke(process, "read", key, null);
    const read = await call(pathOf(key));
    const seen = read.status === 200 ? await read.text() : null;
    const etag = read.headers.get("etag");
    if (read.status === 200 || read.status === 404) history.complete(process, "ok", seen);
    else {
      failed(`GET ${key}`, read.status);
      history.complete(process, "info");
    }
    if (n % 3 !== 2 || seen === null || etag === null) continue;
    history.invoke(process, "cas", key, [seen, value]);
    const swapped = await call(pathOf(key), { method: "PUT", body: value, headers: { "if-match": etag } });
    if (swapped.status !== 200 && swapped.status !== 412) failed(`CAS ${key}`, swapped.status);
    history.complete(process, swapped.status === 200 ? "ok" : swapped.status === 412 ? "fail" : "info");
  }
}

/**
 * Writes a key's starting value before the clients run, recorded as a write of `process`, so the
 * checker knows where the key starts (an unrecorded put makes a read of it unplaceable). Returns the status.
 */
export async function recordedPut(options: { history: HistoryRecorder; process: number; key: string; value: string; path: string; call?: (path: string, init?: RequestInit) => Promise<Response> }): Promise<number> {
  const call = options.call ?? suiteCall;
  options.history.invoke(options.process, "write", options.key, options.value);
  const response = await call(options.path, { method: "PUT", body: options.value });
  options.history.complete(options.process, response.status === 200 ? "ok" : "info");
  return response.status;
}

/**
 * Reads every key once more after the clients stopped (recorded as process 99), checks the whole
 * history, and asserts it is linearizable with at least `operationsMin` operations.
 */
export async function expectLinearizableReadBack(options: { history: HistoryRecorder; keys: readonly string[]; path: (key: string) => string; operationsMin: number; call?: (path: string, init?: RequestInit) => Promise<Response> }): Promise<void> {
  const { history } = options;
  const call = options.call ?? suiteCall;
  for (const key of options.keys) {
    history.invoke(99, "read", key, null);
    const read = await call(options.path(key));
    expect(read.status).toBe(200);
    history.complete(99, "ok", await read.text());
  }
  const result = checkHistory(history.operations());
  expect(result.keys.filter((key) => key.outcome === "violation").flatMap(describeKeyFailure)).toEqual([]);
  expect(result.linearizable).toBe(true);
  expect(result.operationsCount).toBeGreaterThan(options.operationsMin);
}
