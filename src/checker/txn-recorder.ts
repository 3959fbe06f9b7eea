/**
 * In-memory recording of a transaction history for tests, simulators and workloads: the events a
 * JSON Lines file holds, built call by call. Misuse (a second invoke while one is outstanding, a
 * completion without an invoke, time going backwards) is a programmer error and asserts.
 */
import { assert } from "../shared/assert.ts";
import type { TxnEvent, TxnOperation, TxnRequest, TxnResponse } from "./txn-history.ts";
import { formatTxnHistory, pairTxnEvents } from "./txn-parse.ts";

/** Records transaction invokes and completions in order; hands them out as events, operations or JSON Lines. */
export class TxnHistoryRecorder {
  readonly #events: TxnEvent[] = [];
  readonly #outstanding = new Set<number>();
  #timeLast = -Infinity;

  /** Records the start of a transaction. `time` defaults to the number of events recorded so far. */
  invoke(process: number, request: TxnRequest, time?: number): void {
    assert(Number.isSafeInteger(process) && process >= 0, `process must be a non-negative integer, got ${process}`);
    assert(!this.#outstanding.has(process), `process ${process} invokes while a txn is outstanding`);
    this.#outstanding.add(process);
    const copy: TxnRequest = { reads: [...request.reads], checks: [...request.checks], writes: [...request.writes] };
    this.#events.push({ process, type: "invoke", f: "txn", value: copy, time: this.#nextTime(time) });
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

  /** Whether `process` has a transaction outstanding. */
  isOutstanding(process: number): boolean {
    return this.#outstanding.has(process);
  }

  /** The events recorded so far, in order (a copy). */
  events(): TxnEvent[] {
    return this.#events.slice();
  }

  /** The transactions recorded so far; outstanding ones count as `info`. */
  operations(): TxnOperation[] {
    const result = pairTxnEvents(this.#events);
    assert(result.ok, "recorded events always pair");
    return result.operations;
  }

  /** The history as JSON Lines, readable by parseTxnHistory and the check-history script. */
  toJsonLines(): string {
    return formatTxnHistory(this.#events);
  }

  #complete(process: number, type: "ok" | "fail" | "info", value: TxnResponse | null, time: number | undefined): void {
    assert(this.#outstanding.has(process), `process ${process} completes without an outstanding invoke`);
    this.#outstanding.delete(process);
    this.#events.push({ process, type, f: "txn", value, time: this.#nextTime(time) });
  }

  #nextTime(time: number | undefined): number {
    const next = time ?? this.#events.length;
    assert(Number.isFinite(next), `time must be finite, got ${next}`);
    assert(next >= this.#timeLast, `time ${next} goes back before ${this.#timeLast}`);
    this.#timeLast = next;
    return next;
  }
}
