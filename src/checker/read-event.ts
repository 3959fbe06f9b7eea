/**
 * Validation of one history event on its own (field presence and types), before pairing.
 * Errors are values with a readable message: malformed input is an operating error, not a bug.
 */
import {
  eventTypes,
  isCasArguments,
  operationFunctions,
  type CasArguments,
  type EventType,
  type OperationFunction,
  type Value,
} from "./history.ts";

/** An event whose fields are valid; a completion may omit `f`, `key` and `value` (taken from its invoke). */
export interface EventRecord {
  process: number;
  type: EventType;
  /** Always set on an invoke; null when a completion leaves it out. */
  f: OperationFunction | null;
  /** Always set on an invoke; null when a completion leaves it out. */
  key: string | null;
  /** Undefined when the field is absent. */
  value: Value | CasArguments | undefined;
  time: number;
}

/** The result of reading one event: the record, or what is wrong with it. */
export type ReadEventResult = { ok: true; record: EventRecord } | { ok: false; message: string };

/** Validates one decoded JSON value as a history event. */
export function readEvent(raw: unknown): ReadEventResult {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return failure("an event must be a JSON object");
  }
  const fields = raw as Record<string, unknown>;
  for (const name of ["process", "type", "time"]) {
    if (!(name in fields)) return failure(`missing field "${name}"`);
  }
  const { process, type, time } = fields;
  if (typeof process !== "number" || !Number.isSafeInteger(process) || process < 0) {
    return failure(`"process" must be a non-negative integer, got ${show(process)}`);
  }
  if (!eventTypes.includes(type as EventType)) {
    return failure(`unknown type ${show(type)}: expected one of ${eventTypes.join(", ")}`);
  }
  if (typeof time !== "number" || !Number.isFinite(time)) {
    return failure(`"time" must be a finite number, got ${show(time)}`);
  }
  const functionAndKey = readFunctionAndKey(fields, type as EventType);
  if (typeof functionAndKey === "string") return failure(functionAndKey);
  const { f, key } = functionAndKey;
  const value = type === "invoke" && f !== null ? readInvokeValue(fields, f) : readCompletionValue(fields);
  if (typeof value === "object" && value !== null && "error" in value) return failure(value.error);
  const record: EventRecord = { process, type: type as EventType, f, key, value, time };
  return { ok: true, record };
}

function readFunctionAndKey(
  fields: Record<string, unknown>,
  type: EventType,
): { f: OperationFunction | null; key: string | null } | string {
  if (type === "invoke") {
    if (!("f" in fields)) return `missing field "f"`;
    if (!("key" in fields)) return `missing field "key"`;
  }
  const f = fields["f"] ?? null;
  const key = fields["key"] ?? null;
  if (f !== null && !operationFunctions.includes(f as OperationFunction)) {
    return `unknown f ${show(f)}: expected one of ${operationFunctions.join(", ")}`;
  }
  if (key !== null && typeof key !== "string") return `"key" must be a string, got ${show(key)}`;
  return { f: f as OperationFunction | null, key };
}

type ValueOrError = Value | CasArguments | undefined | { error: string };

function readInvokeValue(fields: Record<string, unknown>, f: OperationFunction): ValueOrError {
  const present = "value" in fields;
  const value = fields["value"];
  switch (f) {
    case "read":
    case "delete":
      if (present && value !== null) return { error: `a ${f} invoke must have value null, got ${show(value)}` };
      return null;
    case "write":
      if (!present) return { error: `missing field "value" (the value written)` };
      if (typeof value !== "string") return { error: `a write's value must be a string, got ${show(value)}` };
      return value;
    case "cas":
      if (!present) return { error: `missing field "value" (the cas pair [expected, new])` };
      if (!isCasArguments(value)) {
        return { error: `a cas value must be a 2-element array [expected, new] of strings or null, got ${show(value)}` };
      }
      return value;
  }
}

function readCompletionValue(fields: Record<string, unknown>): ValueOrError {
  if (!("value" in fields)) return undefined;
  const value = fields["value"];
  if (value === null || typeof value === "string" || isCasArguments(value)) return value;
  return { error: `"value" must be a string, null or a cas pair, got ${show(value)}` };
}

function failure(message: string): ReadEventResult {
  return { ok: false, message };
}

/** Renders an offending value for an error message, bounded so a huge value cannot flood the output. */
function show(value: unknown): string {
  const text = value === undefined ? "undefined" : JSON.stringify(value);
  const lengthMax = 60;
  return text.length > lengthMax ? `${text.slice(0, lengthMax)}...` : text;
}
