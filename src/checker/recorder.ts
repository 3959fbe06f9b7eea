/**
 * In-memory history recording for simulators and tests: the same events a JSON Lines file holds,
 * built call by call. Misuse (a second invoke while one is outstanding, a completion without an
 * invoke, time going backwards) is a programmer error and asserts.
 */
import { assert } from "../shared/assert.ts";
import { isCasArguments, type CasArguments, type HistoryEvent, type Operation, type OperationFunction, type Value } from "./history.ts";
import { pairEvents } from "./pair-events.ts";
import { formatHistory } from "./parse.ts";

/** Records invoke and completion events in order and hands them out as events, operations or JSON Lines. */
export class HistoryRecorder {
  readonly #events: HistoryEvent[] = [];
  /** The invoke event of each process's outstanding call. */
  readonly #outstanding = new Map<number, HistoryEvent>();
  #timeLast = -Infinity;

  /**
   * Records the start of a call. `value`: the value for a write, `[expected, new]` for a cas,
   * null for read and delete. `time` defaults to the number of events recorded so far.
   */
  invoke(process: number, f: OperationFunction, key: string, value: Value | CasArguments, time?: number): void {
    assert(Number.isSafeInteger(process) && process >= 0, `process must be a non-negative integer, got ${process}`);
    assert(!this.#outstanding.has(process), `process ${process} invokes while a call is outstanding`);
    if (f === "write") assert(typeof value === "string", "a write's value is a string");
    if (f === "cas") assert(isCasArguments(value), "a cas value is [expected, new]");
    if (f === "read" || f === "delete") assert(value === null, `a ${f} invoke has value null`);
    const event: HistoryEvent = { process, type: "invoke", f, key, value, time: this.#nextTime(time) };
    this.#outstanding.set(process, event);
    this.#events.push(event);
  }

  /**
   * Records the end of `process`'s outstanding call. `value` is what a read returned; other
   * functions ignore it and echo their invoke's value, as Jepsen does.
   */
  complete(process: number, type: "ok" | "fail" | "info", value: Value = null, time?: number): void {
    const invoke = this.#outstanding.get(process);
    assert(invoke !== undefined, `process ${process} completes without an outstanding invoke`);
    this.#outstanding.delete(process);
    const echo = invoke.f === "read" ? (type === "ok" ? value : null) : invoke.value;
    const event: HistoryEvent = { process, type, f: invoke.f, key: invoke.key, value: echo, time: this.#nextTime(time) };
    this.#events.push(event);
  }

  /** Whether `process` has a call outstanding. */
  isOutstanding(process: number): boolean {
    return this.#outstanding.has(process);
  }

  /** The events recorded so far, in order (a copy). */
  events(): HistoryEvent[] {
    return this.#events.slice();
  }

  /** The operations recorded so far; outstanding calls count as `info`. */
  operations(): Operation[] {
    const result = pairEvents(this.#events);
    assert(result.ok, "recorded events always pair");
    return result.operations;
  }

  /** The history as JSON Lines, readable by parseHistory and the check-history script. */
  toJsonLines(): string {
    return formatHistory(this.#events);
  }

  #nextTime(time: number | undefined): number {
    const next = time ?? this.#events.length;
    assert(Number.isFinite(next), `time must be finite, got ${next}`);
    assert(next >= this.#timeLast, `time ${next} goes back before ${this.#timeLast}`);
    this.#timeLast = next;
    return next;
  }
}
