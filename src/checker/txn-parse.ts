/**
 * Parser of a transaction history in JSON Lines (see txn-history.ts for the format), and the
 * pairing of invokes with completions that the recorder shares. Malformed input is an operating
 * error: every problem is a value naming the 1-based line it was found on.
 */
import { eventTypes, type EventType } from "./history.ts";
import { readJsonLines } from "./parse.ts";
import type { TxnCheck, TxnEvent, TxnOperation, TxnReadResult, TxnRequest, TxnResponse, TxnWrite } from "./txn-history.ts";

/** A parsed transaction history, or the first problem found and its line. */
export type ParseTxnHistoryResult =
  | { ok: true; events: TxnEvent[]; operations: TxnOperation[] }
  | { ok: false; line: number; message: string };

/** Pairing result: operations in invocation order, or the position of the first bad event. */
export type PairTxnEventsResult = { ok: true; operations: TxnOperation[] } | { ok: false; position: number; message: string };

/** Parses JSON Lines text into transaction events and operations. */
export function parseTxnHistory(text: string): ParseTxnHistoryResult {
  const rows = readJsonLines(text);
  if (!rows.ok) return rows;
  const events: TxnEvent[] = [];
  for (const { raw, line } of rows.rows) {
    const event = readTxnEvent(raw);
    if (typeof event === "string") return { ok: false, line, message: event };
    events.push(event);
  }
  const paired = pairTxnEvents(events);
  if (!paired.ok) return { ok: false, line: rows.rows[paired.position]!.line, message: paired.message };
  return { ok: true, events, operations: paired.operations };
}

/** Serializes events as JSON Lines, one event per line, ending with a newline. */
export function formatTxnHistory(events: readonly TxnEvent[]): string {
  return events.map((event) => JSON.stringify(event) + "\n").join("");
}

/** Whether a decoded JSON line is a transaction event (`f: "txn"`), to tell the two history formats apart. */
export function isTxnEventLine(raw: unknown): boolean {
  return typeof raw === "object" && raw !== null && (raw as Record<string, unknown>)["f"] === "txn";
}

/**
 * Pairs each invoke with the next completion of the same process, in invocation order. A call
 * still outstanding at the end counts as `info`: it may or may not have committed.
 */
export function pairTxnEvents(events: readonly TxnEvent[]): PairTxnEventsResult {
  const operations: TxnOperation[] = [];
  const outstanding = new Map<number, { index: number; event: TxnEvent; position: number }>();
  let timePrevious = -Infinity;
  for (let position = 0; position < events.length; position++) {
    const event = events[position]!;
    const fail = (message: string): PairTxnEventsResult => ({ ok: false, position, message });
    if (event.time < timePrevious) return fail(`time ${event.time} is before the previous event's time ${timePrevious}`);
    timePrevious = event.time;
    const pending = outstanding.get(event.process);
    if (event.type === "invoke") {
      if (pending !== undefined) return fail(`process ${event.process} invokes again while its txn of invoke time ${pending.event.time} is outstanding`);
      outstanding.set(event.process, { index: operations.length, event, position });
      operations.push(operationOf(operations.length, event, position, null, "info", null, Infinity));
      continue;
    }
    if (pending === undefined) return fail(`process ${event.process} completes (${event.type}) without an outstanding invoke`);
    outstanding.delete(event.process);
    const response = event.type === "ok" ? (event.value as TxnResponse) : null;
    operations[pending.index] = operationOf(pending.index, pending.event, pending.position, response, event.type, event.time, event.type === "info" ? Infinity : position);
  }
  return { ok: true, operations };
}

function operationOf(
  index: number,
  invoke: TxnEvent,
  invokePosition: number,
  response: TxnResponse | null,
  outcome: "ok" | "fail" | "info",
  completeTime: number | null,
  completePosition: number,
): TxnOperation {
  const request = invoke.value as TxnRequest;
  return { index, process: invoke.process, request, response, outcome, invokeTime: invoke.time, completeTime, invokePosition, completePosition };
}

/** Validates one decoded JSON value as a transaction event; a string says what is wrong. */
export function readTxnEvent(raw: unknown): TxnEvent | string {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return "an event must be a JSON object";
  const fields = raw as Record<string, unknown>;
  for (const name of ["process", "type", "f", "time"]) if (!(name in fields)) return `missing field "${name}"`;
  const { process, type, f, time } = fields;
  if (typeof process !== "number" || !Number.isSafeInteger(process) || process < 0) return `"process" must be a non-negative integer, got ${show(process)}`;
  if (!eventTypes.includes(type as EventType)) return `unknown type ${show(type)}: expected one of ${eventTypes.join(", ")}`;
  if (f !== "txn") return `"f" must be "txn" in a transaction history, got ${show(f)}`;
  if (typeof time !== "number" || !Number.isFinite(time)) return `"time" must be a finite number, got ${show(time)}`;
  const value = type === "invoke" ? readRequest(fields["value"]) : type === "ok" ? readResponse(fields["value"]) : null;
  if (typeof value === "string") return value;
  return { process, type: type as EventType, f: "txn", value, time };
}

function readRequest(raw: unknown): TxnRequest | string {
  if (!isObject(raw)) return `an invoke's value must be a request object {reads, checks, writes}, got ${show(raw)}`;
  const reads = raw["reads"] ?? [];
  const checks = raw["checks"] ?? [];
  const writes = raw["writes"] ?? [];
  if (!Array.isArray(reads) || !reads.every((key) => typeof key === "string")) return `"reads" must be a list of keys, got ${show(reads)}`;
  if (!Array.isArray(checks)) return `"checks" must be a list, got ${show(checks)}`;
  if (!Array.isArray(writes)) return `"writes" must be a list, got ${show(writes)}`;
  const checksRead: TxnCheck[] = [];
  for (const check of checks) {
    if (!isObject(check) || typeof check["key"] !== "string") return `a check must be {key, version} or {key, absent: true}, got ${show(check)}`;
    if (check["absent"] === true) checksRead.push({ key: check["key"], absent: true });
    else if (isVersion(check["version"])) checksRead.push({ key: check["key"], version: check["version"] });
    else return `a check must be {key, version} or {key, absent: true}, got ${show(check)}`;
  }
  const writesRead: TxnWrite[] = [];
  for (const write of writes) {
    if (!isObject(write) || typeof write["key"] !== "string") return `a write must be {op, key, value}, got ${show(write)}`;
    if (write["op"] === "put" && typeof write["value"] === "string") writesRead.push({ op: "put", key: write["key"], value: write["value"] });
    else if (write["op"] === "delete") writesRead.push({ op: "delete", key: write["key"] });
    else return `a write must be {"op":"put", key, value: string} or {"op":"delete", key}, got ${show(write)}`;
  }
  return { reads: reads as string[], checks: checksRead, writes: writesRead };
}

function readResponse(raw: unknown): TxnResponse | string {
  if (!isObject(raw)) return `an ok completion's value must be a response object {reads, versions}, got ${show(raw)}`;
  const reads = raw["reads"] ?? [];
  const versions = raw["versions"] ?? {};
  if (!Array.isArray(reads)) return `"reads" of a response must be a list, got ${show(reads)}`;
  const readsRead: TxnReadResult[] = [];
  for (const read of reads) {
    if (!isObject(read) || typeof read["key"] !== "string" || typeof read["found"] !== "boolean") return `a read result must be {key, found, value, version}, got ${show(read)}`;
    const value = read["value"] ?? null;
    const version = read["version"] ?? 0;
    if ((value !== null && typeof value !== "string") || !isVersion(version)) return `a read result must be {key, found, value, version}, got ${show(read)}`;
    if (read["found"] !== (value !== null)) return `a read result is found exactly when it has a value, got ${show(read)}`;
    readsRead.push({ key: read["key"], found: read["found"], value, version });
  }
  if (!isObject(versions) || !Object.values(versions).every(isVersion)) return `"versions" must map keys to versions, got ${show(versions)}`;
  return { reads: readsRead, versions: versions as Record<string, number> };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isVersion(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** Renders an offending value for an error message, bounded so a huge value cannot flood the output. */
function show(value: unknown): string {
  const text = value === undefined ? "undefined" : JSON.stringify(value);
  const lengthMax = 80;
  return text.length > lengthMax ? `${text.slice(0, lengthMax)}...` : text;
}
