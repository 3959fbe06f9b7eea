/**
 * The binary encodings of a Command, as it travels in a Raft entry. Byte 0 names the format.
 *
 * Format 1, any command:
 *   byte 0       1
 *   bytes 1..4   header length, big-endian
 *   header       UTF-8 JSON: the envelope and the operation, each put's value replaced by `valueBytes`
 *   values       the raw bytes of every put's value, in the order the puts appear
 *
 * Format 2, a single put or delete (nearly every write; no JSON on either side):
 *   byte 0       2
 *   byte 1       flags: bit 0 delete (else put); bits 1..2 condition (0 none, 1 ifAbsent,
 *                2 ifVersion); bit 3 requestId present; the other bits 0
 *   varints      seq, timeMs, then ifVersion when the condition is ifVersion
 *   texts        clientId, requestId when present, key: each a varint length and UTF-8
 *   value        a put's value: a varint length and the bytes (a delete has none)
 *
 * Values never pass through JSON, so arbitrary bytes round-trip exactly and cheaply. Encoding is
 * deterministic (fields are written in a fixed order, and each command has one format). Decoding
 * never throws: malformed input gives a BadCommand value. Every replica must read format 2 before
 * any leader writes it: a replica of an older release applies a format-2 entry as a bad command
 * and diverges, so a cluster upgrades all its replicas together (docs/cloudflare.md, Known limits).
 */
import { assert } from "../shared/assert.ts";
import { valueBytesMax } from "../shared/limits.ts";
import { ByteReader, ByteWriter, isJsonObject, parseJson, utf8LengthOf, varintLengthOf } from "./binary.ts";
import { badCommand, validateCommand } from "./command.ts";
import type { BadCommand, BatchStep, Command, Condition, DeleteOperation, Operation, PutOperation, RangeChange } from "./command.ts";

/** The format byte of the general encoding (a JSON header and the values). */
export const commandFormatVersion = 1;
/** The format byte of the compact encoding of a single put or delete. */
export const compactCommandFormatVersion = 2;

/** The outcome of decoding: the command, or why the bytes are not one. */
export type DecodedCommand = { readonly ok: true; readonly command: Command } | BadCommand;

/** Encodes a valid command (asserted: proposers validate first with validateCommand). */
export function encodeCommand(command: Command): Uint8Array {
  const problem = validateCommand(command);
  assert(problem === undefined, () => `encodeCommand needs a valid command: ${problem?.reason}`);
  const operation = command.operation;
  if (operation.type === "put" || operation.type === "delete") return encodeCompact(command, operation);
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
  if (version === compactCommandFormatVersion) return decodeCompact(reader);
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

const deleteFlag = 0b0001;
const conditionShift = 1;
const conditionMask = 0b0110;
const ifAbsentCondition = 1;
const ifVersionCondition = 2;
const requestIdFlag = 0b1000;

/** Format 2 of a valid single put or delete. */
function encodeCompact(command: Command, operation: PutOperation | DeleteOperation): Uint8Array {
  const condition = operation.condition;
  const ifVersion = condition !== undefined && "ifVersion" in condition ? condition.ifVersion : undefined;
  const conditionCode = condition === undefined ? 0 : ifVersion === undefined ? ifAbsentCondition : ifVersionCondition;
  const flags = (operation.type === "delete" ? deleteFlag : 0) | (conditionCode << conditionShift) | (command.requestId === undefined ? 0 : requestIdFlag);
  const clientIdLength = utf8LengthOf(command.clientId);
  const requestIdLength = command.requestId === undefined ? 0 : utf8LengthOf(command.requestId);
  const keyLength = utf8LengthOf(operation.key);
  const value = operation.type === "put" ? operation.value : undefined;
  let length = 2 + varintLengthOf(command.seq) + varintLengthOf(command.timeMs) + varintLengthOf(clientIdLength) + clientIdLength + varintLengthOf(keyLength) + keyLength;
  if (ifVersion !== undefined) length += varintLengthOf(ifVersion);
  if (command.requestId !== undefined) length += varintLengthOf(requestIdLength) + requestIdLength;
  if (value !== undefined) length += varintLengthOf(value.length) + value.length;
  const writer = new ByteWriter(length);
  writer.writeUint8(compactCommandFormatVersion);
  writer.writeUint8(flags);
  writer.writeVarint(command.seq);
  writer.writeVarint(command.timeMs);
  if (ifVersion !== undefined) writer.writeVarint(ifVersion);
  writer.writeVarint(clientIdLength);
  writer.writeText(command.clientId, clientIdLength);
  if (command.requestId !== undefined) {
    writer.writeVarint(requestIdLength);
    writer.writeText(command.requestId, requestIdLength);
  }
  writer.writeVarint(keyLength);
  writer.writeText(operation.key, keyLength);
  if (value !== undefined) {
    writer.writeVarint(value.length);
    writer.writeBytes(value);
  }
  return writer.finish();
}

/** Decodes format 2 after its format byte. */
function decodeCompact(reader: ByteReader): DecodedCommand {
  const flags = reader.readUint8();
  if (flags === undefined) return badCommand("compact command is truncated");
  const conditionCode = (flags & conditionMask) >> conditionShift;
  if ((flags & ~(deleteFlag | conditionMask | requestIdFlag)) !== 0 || conditionCode > ifVersionCondition) return badCommand(`unknown compact command flags ${flags}`);
  const seq = reader.readVarint();
  const timeMs = reader.readVarint();
  const ifVersion = conditionCode === ifVersionCondition ? reader.readVarint() : 0;
  const clientId = readVarintText(reader);
  const requestId = (flags & requestIdFlag) === 0 ? "" : readVarintText(reader);
  const key = readVarintText(reader);
  if (seq === undefined || timeMs === undefined || ifVersion === undefined || clientId === undefined || requestId === undefined || key === undefined) {
    return badCommand("compact command is truncated or not UTF-8");
  }
  const condition: Condition | undefined = conditionCode === 0 ? undefined : conditionCode === ifAbsentCondition ? { ifAbsent: true } : { ifVersion };
  const conditionField = condition === undefined ? {} : { condition };
  let operation: PutOperation | DeleteOperation;
  if ((flags & deleteFlag) !== 0) {
    operation = { type: "delete", key, ...conditionField };
  } else {
    const length = reader.readVarint();
    if (length !== undefined && length > valueBytesMax) return badCommand("a put's value is too large");
    const value = length === undefined ? undefined : reader.readBytes(length);
    if (value === undefined) return badCommand("a put's value is missing or truncated");
    operation = { type: "put", key, value, ...conditionField };
  }
  if (reader.remaining !== 0) return badCommand(`${reader.remaining} bytes follow the ${operation.type}`);
  const command: Command = { clientId, seq, timeMs, ...((flags & requestIdFlag) === 0 ? {} : { requestId }), operation };
  return validateCommand(command) ?? { ok: true, command };
}

function readVarintText(reader: ByteReader): string | undefined {
  const length = reader.readVarint();
  return length === undefined ? undefined : reader.readText(length);
}
