/**
 * In-memory history recording for simulators and tests: the same events a JSON Lines file holds,
 * built call by call. Misuse (a second invoke while one is outstanding, a completion without an
 * invoke, time going backwards) is a programmer error and asserts.
 */
import { assert } from "../shared/assert.ts";
import { isCasArguments, type CasArguments, type HistoryEvent, type Operation, type OperationFunction, type Value } from "./history.ts";
import { pairEvents } from "./pair-events.ts";
import { formatHistory } from "./parse.ts";
import { EventRecorder } from "./event-recorder.ts";

/** Records invoke and completion events in order and hands them out as events, operations or JSON Lines. */
export class HistoryRecorder extends EventRecorder<HistoryEvent> {
  /**
   * Records the start of a call. `value`: the value for a write, `[expected, new]` for a cas,
   * null for read and delete. `time` defaults to the number of events recorded so far.
   */
  invoke(process: number, f: OperationFunction, key: string, value: Value | CasArguments, time?: number): void {
    if (f === "write") assert(typeof value === "string", "a write's value is a string");
    if (f === "cas") assert(isCasArguments(value), "a cas value is [expected, new]");
    if (f === "read" || f === "delete") assert(value === null, `a ${f} invoke has value null`);
    this.recordInvoke(process, (at) => ({ process, type: "invoke", f, key, value, time: at }), time);
  }

  /**
   * Records the end of `process`'s outstanding call. `value` is what a read returned; other
   * functions ignore it and echo their invoke's value, as Jepsen does.
   */
  complete(process: number, type: "ok" | "fail" | "info", value: Value = null, time?: number): void {
    this.recordCompletion(process, (invoke, at) => {
      const echo = invoke.f === "read" ? (type === "ok" ? value : null) : invoke.value;
      return { process, type, f: invoke.f, key: invoke.key, value: echo, time: at };
    }, time);
  }

  /** The operations recorded so far; outstanding calls count as `info`. */
  operations(): Operation[] {
    const result = pairEvents(this.events());
    assert(result.ok, "recorded events always pair");
    return result.operations;
  }

  /** The history as JSON Lines, readable by parseHistory and the check-history script. */
  toJsonLines(): string {
    return formatHistory(this.events());
  }
}
