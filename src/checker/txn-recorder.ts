/**
 * In-memory recording of a transaction history for tests, simulators and workloads: the events a
 * JSON Lines file holds, built call by call. Misuse (a second invoke while one is outstanding, a
 * completion without an invoke, time going backwards) is a programmer error and asserts.
 */
import { assert } from "../shared/assert.ts";
import type { TxnEvent, TxnOperation, TxnRequest, TxnResponse } from "./txn-history.ts";
import { formatTxnHistory, pairTxnEvents } from "./txn-parse.ts";
import { EventRecorder } from "./event-recorder.ts";

/** Records transaction invokes and completions in order; hands them out as events, operations or JSON Lines. */
export class TxnHistoryRecorder extends EventRecorder<TxnEvent> {
  /** Records the start of a transaction. `time` defaults to the number of events recorded so far. */
  invoke(process: number, request: TxnRequest, time?: number): void {
    const copy: TxnRequest = { reads: [...request.reads], checks: [...request.checks], writes: [...request.writes] };
    this.recordInvoke(process, (at) => ({ process, type: "invoke", f: "txn", value: copy, time: at }), time);
  }

  /** Records that the transaction committed and what it answered. */
  ok(process: number, response: TxnResponse, time?: number): void {
    this.#complete(process, "ok", { reads: [...response.reads], versions: { ...response.versions } }, time);
  }

  /** Records that the transaction certainly did not commit (a 409 conflict or another 4xx). */
  fail(process: number, time?: number): void {
    this.#complete(process, "fail", null, time);
  }

  /** Records that the outcome is unknown (a timeout, a 5xx, a lost connection). */
  info(process: number, time?: number): void {
    this.#complete(process, "info", null, time);
  }

  /** The transactions recorded so far; outstanding ones count as `info`. */
  operations(): TxnOperation[] {
    const result = pairTxnEvents(this.events());
    assert(result.ok, "recorded events always pair");
    return result.operations;
  }

  /** The history as JSON Lines, readable by parseTxnHistory and the check-history script. */
  toJsonLines(): string {
    return formatTxnHistory(this.events());
  }

  #complete(process: number, type: "ok" | "fail" | "info", value: TxnResponse | null, time: number | undefined): void {
    this.recordCompletion(process, (_invoke, at) => ({ process, type, f: "txn", value, time: at }), time);
  }
}
