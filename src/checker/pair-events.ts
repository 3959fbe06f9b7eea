/**
 * Pairs each invoke with the next completion of the same process, turning an event list into
 * operations. Checks what only the whole history can show: time order, one outstanding call per
 * process, completions that match their invoke.
 */
import { isCasArguments, type HistoryEvent, type Operation, type Outcome, type Value } from "./history.ts";
import type { EventRecord } from "./read-event.ts";

/** Events and operations of a well-formed history, or the position of the first bad event. */
export type PairEventsResult =
  | { ok: true; events: HistoryEvent[]; operations: Operation[] }
  | { ok: false; position: number; message: string };

/**
 * Pairs events into operations, in invocation order. A call still outstanding at the end of the
 * history counts as `info`: it may or may not have taken effect.
 */
export function pairEvents(records: readonly EventRecord[]): PairEventsResult {
  const events: HistoryEvent[] = [];
  const operations: Operation[] = [];
  /** Index into `operations` of each process's outstanding call. */
  const outstanding = new Map<number, number>();
  let timePrevious = -Infinity;
  for (let position = 0; position < records.length; position++) {
    const record = records[position]!;
    const fail = (message: string): PairEventsResult => ({ ok: false, position, message });
    if (record.time < timePrevious) {
      return fail(`time ${record.time} is before the previous event's time ${timePrevious}`);
    }
    timePrevious = record.time;
    const pending = outstanding.get(record.process);
    if (record.type === "invoke") {
      if (pending !== undefined) {
        const other = operations[pending]!;
        return fail(`process ${record.process} invokes again while its ${other.f} of invoke time ${other.invokeTime} is outstanding`);
      }
      outstanding.set(record.process, operations.length);
      operations.push(operationFromInvoke(record, operations.length, position));
      events.push(eventFromInvoke(record));
      continue;
    }
    if (pending === undefined) {
      return fail(`process ${record.process} completes (${record.type}) without an outstanding invoke`);
    }
    const operation = operations[pending]!;
    const mismatch = completionMismatch(record, operation);
    if (mismatch !== null) return fail(mismatch);
    outstanding.delete(record.process);
    completeOperation(operation, record, position);
    events.push(eventFromCompletion(record, operation));
  }
  return { ok: true, events, operations };
}

function operationFromInvoke(record: EventRecord, index: number, position: number): Operation {
  let value: Value = null;
  let expected: Value = null;
  if (record.f === "write" && typeof record.value === "string") value = record.value;
  if (record.f === "cas" && isCasArguments(record.value)) [expected, value] = record.value;
  return {
    index,
    process: record.process,
    f: record.f!,
    key: record.key!,
    value,
    expected,
    outcome: "info",
    invokeTime: record.time,
    completeTime: null,
    invokePosition: position,
    completePosition: Infinity,
  };
}

function eventFromInvoke(record: EventRecord): HistoryEvent {
  return {
    process: record.process,
    type: "invoke",
    f: record.f!,
    key: record.key!,
    value: record.value ?? null,
    time: record.time,
  };
}

function completionMismatch(record: EventRecord, operation: Operation): string | null {
  if (record.f !== null && record.f !== operation.f) {
    return `completion f "${record.f}" does not match the invoke's f "${operation.f}"`;
  }
  if (record.key !== null && record.key !== operation.key) {
    return `completion key ${JSON.stringify(record.key)} does not match the invoke's key ${JSON.stringify(operation.key)}`;
  }
  if (operation.f === "read" && record.type === "ok") {
    if (record.value === undefined) return `missing field "value" (the value read) on a read ok`;
    if (record.value !== null && typeof record.value !== "string") {
      return `a read ok's value must be a string or null, got ${JSON.stringify(record.value)}`;
    }
  }
  return null;
}

function completeOperation(operation: Operation, record: EventRecord, position: number): void {
  const outcome = record.type as Outcome;
  operation.outcome = outcome;
  operation.completeTime = record.time;
  operation.completePosition = outcome === "info" ? Infinity : position;
  if (operation.f === "read" && outcome === "ok") operation.value = record.value as string | null;
}

function eventFromCompletion(record: EventRecord, operation: Operation): HistoryEvent {
  const echo = operation.f === "cas" ? ([operation.expected, operation.value] as const) : operation.value;
  return {
    process: record.process,
    type: record.type,
    f: operation.f,
    key: operation.key,
    value: record.value !== undefined ? record.value : operation.f === "read" ? null : echo,
    time: record.time,
  };
}
