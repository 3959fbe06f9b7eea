/**
 * What both history recorders share: events kept in order with times that never go back, and at
 * most one outstanding call per process. Misuse is a programmer error and asserts.
 */
import { assert } from "../shared/assert.ts";

/** An ordered event log with one outstanding call per process; `Event` carries its own process and time. */
export abstract class EventRecorder<Event> {
  readonly #events: Event[] = [];
  /** The invoke event of each process's outstanding call. */
  readonly #outstanding = new Map<number, Event>();
  #timeLast = -Infinity;

  /** Whether `process` has a call outstanding. */
  isOutstanding(process: number): boolean {
    return this.#outstanding.has(process);
  }

  /** The events recorded so far, in order (a copy). */
  events(): Event[] {
    return this.#events.slice();
  }

  /** Records `process`'s invoke event, built from the time it gets (`time` defaults to the number of events so far). */
  protected recordInvoke(process: number, build: (time: number) => Event, time: number | undefined): void {
    assert(Number.isSafeInteger(process) && process >= 0, `process must be a non-negative integer, got ${process}`);
    assert(!this.#outstanding.has(process), `process ${process} invokes while a call is outstanding`);
    const event = build(this.#nextTime(time));
    this.#outstanding.set(process, event);
    this.#events.push(event);
  }

  /** Records the completion of `process`'s outstanding call, built from its invoke event and the time it gets. */
  protected recordCompletion(process: number, build: (invoke: Event, time: number) => Event, time: number | undefined): void {
    const invoke = this.#outstanding.get(process);
    assert(invoke !== undefined, `process ${process} completes without an outstanding invoke`);
    this.#outstanding.delete(process);
    this.#events.push(build(invoke, this.#nextTime(time)));
  }

  #nextTime(time: number | undefined): number {
    const next = time ?? this.#events.length;
    assert(Number.isFinite(next), `time must be finite, got ${next}`);
    assert(next >= this.#timeLast, `time ${next} goes back before ${this.#timeLast}`);
    this.#timeLast = next;
    return next;
  }
}
