/**
 * The binary encoding of a Command, as it travels in a Raft entry:
 *
 *   byte 0       format version (1)
 *   bytes 1..4   header length, big-endian
 *   header       UTF-8 JSON: the envelope and the operation, each put's value replaced by `valueBytes`
 *   values       the raw bytes of every put's value, in the order the puts appear
 *
 * Values never pass through JSON, so arbitrary bytes round-trip exactly and cheaply. Encoding is
 * deterministic (fields are written in a fixed order). Decoding never throws: malformed input gives
 * a BadCommand value.
 */
import { assert } from "../shared/assert.ts";
import { valueBytesMax } from "../shared/limits.ts";
import { ByteReader, ByteWriter, isJsonObject, parseJson, utf8LengthOf } from "./binary.ts";
import { badCommand, validateCommand } from "./command.ts";
import type { BadCommand, BatchStep, Command, Condition, Operation, RangeChange } from "./command.ts";

/** The format version byte this module writes and reads. */
export const commandFormatVersion = 1;

/** The outcome of decoding: the command, or why the bytes are not one. */
export type DecodedCommand = { readonly ok: true; readonly command: Command } | BadCommand;

/** Encodes a valid command (asserted: proposers validate first with validateCommand). */
export function encodeCommand(command: Command): Uint8Array {
  const problem = validateCommand(command);
  assert(problem === undefined, `encodeCommand needs a valid command: ${problem?.reason}`);
  const values: Uint8Array[] = [];
  const header = {
    clientId: command.clientId,
    seq: command.seq,
    timeMs: command.timeMs,
    ...(command.requestId === undefined ? {} : { requestId: command.requestId }),
    operation: wireOperationOf(command.operation, values),
  };
  const headerText = JSON.stringify(header);
  const headerLength = utf8LengthOf(headerText);
  let length = 1 + 4 + headerLength;
  for (const value of values) length += value.length;
  const writer = new ByteWriter(length);
  writer.writeUint8(commandFormatVersion);
  writer.writeFramedText(headerText, headerLength);
  for (const value of values) writer.writeBytes(value);
  return writer.finish();
}

/** Decodes bytes written by encodeCommand; any other input gives a BadCommand value. */
export function decodeCommand(data: Uint8Array): DecodedCommand {
  if (!(data instanceof Uint8Array)) return badCommand("command data must be a Uint8Array");
  const reader = new ByteReader(data);
  const version = reader.readUint8();
  if (version !== commandFormatVersion) return badCommand(`unknown command format version ${version}`);
  const headerText = reader.readFramedText();
  if (headerText === undefined) return badCommand("command header is truncated or not UTF-8");
  const header = parseJson(headerText);
  if (!isJsonObject(header)) return badCommand("command header is not a JSON object");
  const operation = withValues(header.operation, reader);
  if (operation === missingValue) return badCommand("a put's value is missing, truncated or too large");
  if (reader.remaining !== 0) return badCommand(`${reader.remaining} bytes follow the last value`);
  const command = {
    clientId: header.clientId,
    seq: header.seq,
    timeMs: header.timeMs,
    ...(header.requestId === undefined ? {} : { requestId: header.requestId }),
    operation,
  } as Command;
  return validateCommand(command) ?? { ok: true, command };
}

function wireOperationOf(operation: Operation, values: Uint8Array[]): object {
  switch (operation.type) {
    case "batch":
      return { type: "batch", ops: operation.ops.map((step) => wireStepOf(step, values)) };
    case "noop":
      return { type: "noop" };
    case "range":
      return { type: "range", change: wireRangeChangeOf(operation.change, values) };
    case "txn":
      return "ops" in operation ? { ...operation, ops: operation.ops.map((step) => wireStepOf(step, values)) } : operation;
    default:
      return wireStepOf(operation, values);
  }
}

/** A range change with each installed record's value replaced by `valueBytes` (values follow the header). */
function wireRangeChangeOf(change: RangeChange, values: Uint8Array[]): object {
  if (change.action !== "install") return change;
  const records = change.records.map((record) => {
    values.push(record.value);
    return { key: record.key, version: record.version, valueBytes: record.value.length };
  });
  return { ...change, records };
}

function wireStepOf(step: BatchStep, values: Uint8Array[]): object {
  switch (step.type) {
    case "put":
      values.push(step.value);
      return { type: "put", key: step.key, valueBytes: step.value.length, ...wireConditionOf(step.condition) };
    case "delete":
      return { type: "delete", key: step.key, ...wireConditionOf(step.condition) };
    case "check":
      return { type: "check", key: step.key, ifVersion: step.ifVersion };
  }
}

function wireConditionOf(condition: Condition | undefined): object {
  if (condition === undefined) return {};
  return "ifAbsent" in condition ? { condition: { ifAbsent: true } } : { condition: { ifVersion: condition.ifVersion } };
}

/** Marks a put whose value bytes are not there. */
const missingValue = Symbol("missingValue");

/** The decoded operation with each put's `valueBytes` replaced by its value; shapes are checked later. */
function withValues(operation: unknown, reader: ByteReader): unknown {
  if (!isJsonObject(operation)) return operation;
  if (operation.type === "put") return putWithValue(operation, reader);
  if (operation.type === "range") return rangeWithValues(operation, reader);
  if ((operation.type !== "batch" && operation.type !== "txn") || !Array.isArray(operation.ops)) return operation;
  const ops: unknown[] = [];
  for (const step of operation.ops as unknown[]) {
    const decoded = isJsonObject(step) && step.type === "put" ? putWithValue(step, reader) : step;
    if (decoded === missingValue) return missingValue;
    ops.push(decoded);
  }
  return operation.type === "batch" ? { type: "batch", ops } : { ...operation, ops };
}

function rangeWithValues(operation: Record<string, unknown>, reader: ByteReader): unknown {
  const change = operation.change;
  if (!isJsonObject(change) || change.action !== "install" || !Array.isArray(change.records)) return operation;
  const records: unknown[] = [];
  for (const record of change.records as unknown[]) {
    if (!isJsonObject(record)) return missingValue;
    const length = record.valueBytes;
    if (typeof length !== "number" || !Number.isSafeInteger(length) || length > valueBytesMax) return missingValue;
    const value = reader.readBytes(length);
    if (value === undefined) return missingValue;
    records.push({ key: record.key, version: record.version, value });
  }
  return { type: "range", change: { ...change, records } };
}

function putWithValue(put: Record<string, unknown>, reader: ByteReader): unknown {
  const length = put.valueBytes;
  if (typeof length !== "number" || !Number.isSafeInteger(length) || length > valueBytesMax) return missingValue;
  const value = reader.readBytes(length);
  if (value === undefined) return missingValue;
  return { type: "put", key: put.key, value, ...(put.condition === undefined ? {} : { condition: put.condition }) };
}
