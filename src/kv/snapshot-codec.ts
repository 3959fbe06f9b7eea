/**
 * The binary encoding of a full KV state machine snapshot:
 *
 *   byte 0       format version (1)
 *   header       4-byte length + UTF-8 JSON: appliedIndex, versionCounter, clockMs, entryCount and
 *                the sessions, least recently used first, as [clientId, lastSeq, lastUsedMs, result]
 *   entries      entryCount times: 4-byte key length + UTF-8 key, 8-byte version,
 *                4-byte value length + value bytes; in ascending key order
 *
 * The same state always gives the same bytes. Decoding checks every invariant and never throws.
 */
import { valueBytesMax } from "../shared/limits.ts";
import { ByteReader, ByteWriter, isJsonObject, parseJson, utf8LengthOf } from "./binary.ts";
import { compareKeys, keyProblemOf } from "./key-order.ts";
import type { ApplyResult } from "./result.ts";
import type { SessionEntry } from "./sessions.ts";
import type { KvEntry } from "./store.ts";
import type { RangeOwnership } from "./ownership.ts";
import { spanProblemOf } from "./span.ts";
import { TxnTable, type TxnStateJson } from "./txn-state.ts";

/** The format version byte this module writes and reads. */
export const snapshotFormatVersion = 1;

/** Everything a KV state machine holds, as plain data. */
export interface KvSnapshot {
  /** Index of the last entry applied (0 = none). */
  readonly appliedIndex: number;
  /** The last version handed out; every record's version is at most this. */
  readonly versionCounter: number;
  /** The largest command timeMs applied so far. */
  readonly clockMs: number;
  /** Sessions, least recently used first. */
  readonly sessions: readonly SessionEntry[];
  /** Records in ascending key order. */
  readonly entries: readonly KvEntry[];
  /** What the group owns; absent for a group that has never been given ranges (it serves every key). */
  readonly ownership?: RangeOwnership;
  /** Intents, transaction records and ended transactions (TxnTable.toJson); absent when there are none. */
  readonly txn?: TxnStateJson;
}

/** The outcome of decoding a snapshot: the state, or why the bytes are not one. */
export type DecodedSnapshot =
  | { readonly ok: true; readonly snapshot: KvSnapshot }
  | { readonly ok: false; readonly code: "badSnapshot"; readonly reason: string };

/** Encodes `snapshot` deterministically. */
export function encodeSnapshot(snapshot: KvSnapshot): Uint8Array {
  const header = {
    appliedIndex: snapshot.appliedIndex,
    versionCounter: snapshot.versionCounter,
    clockMs: snapshot.clockMs,
    entryCount: snapshot.entries.length,
    sessions: snapshot.sessions.map((session) => [session.clientId, session.lastSeq, session.lastUsedMs, session.result]),
    ...(snapshot.ownership === undefined ? {} : { ownership: snapshot.ownership }),
    ...(snapshot.txn === undefined ? {} : { txn: snapshot.txn }),
  };
  const headerText = JSON.stringify(header);
  const headerLength = utf8LengthOf(headerText);
  const keyLengths = snapshot.entries.map((entry) => utf8LengthOf(entry.key));
  let length = 1 + 4 + headerLength;
  snapshot.entries.forEach((entry, index) => {
    length += 4 + (keyLengths[index] as number) + 8 + 4 + entry.value.length;
  });
  const writer = new ByteWriter(length);
  writer.writeUint8(snapshotFormatVersion);
  writer.writeFramedText(headerText, headerLength);
  snapshot.entries.forEach((entry, index) => {
    writer.writeFramedText(entry.key, keyLengths[index] as number);
    writer.writeSafeInteger(entry.version);
    writer.writeUint32(entry.value.length);
    writer.writeBytes(entry.value);
  });
  return writer.finish();
}

/** Decodes bytes written by encodeSnapshot; any other input gives a badSnapshot value. */
export function decodeSnapshot(data: Uint8Array): DecodedSnapshot {
  if (!(data instanceof Uint8Array)) return badSnapshot("snapshot data must be a Uint8Array");
  const reader = new ByteReader(data);
  const version = reader.readUint8();
  if (version !== snapshotFormatVersion) return badSnapshot(`unknown snapshot format version ${version}`);
  const headerText = reader.readFramedText();
  const header = headerText === undefined ? undefined : parseJson(headerText);
  if (!isJsonObject(header)) return badSnapshot("snapshot header is truncated or not a JSON object");
  const { appliedIndex, versionCounter, clockMs, entryCount } = header;
  if (!isCount(appliedIndex) || !isCount(versionCounter) || !isCount(clockMs) || !isCount(entryCount)) {
    return badSnapshot("snapshot header counters must be non-negative safe integers");
  }
  const sessions = readSessions(header.sessions, clockMs);
  if (typeof sessions === "string") return badSnapshot(sessions);
  const entries = readEntries(reader, entryCount, versionCounter);
  if (typeof entries === "string") return badSnapshot(entries);
  if (reader.remaining !== 0) return badSnapshot(`${reader.remaining} bytes follow the last entry`);
  const txnProblem = header.txn === undefined ? undefined : TxnTable.fromJson(header.txn, versionCounter);
  if (typeof txnProblem === "string") return badSnapshot(txnProblem);
  const txn = header.txn === undefined ? {} : { txn: header.txn as unknown as TxnStateJson };
  if (header.ownership === undefined) return { ok: true, snapshot: { appliedIndex, versionCounter, clockMs, sessions, entries, ...txn } };
  const ownership = readOwnership(header.ownership);
  if (typeof ownership === "string") return badSnapshot(ownership);
  return { ok: true, snapshot: { appliedIndex, versionCounter, clockMs, sessions, entries, ownership, ...txn } };
}

function readSessions(rows: unknown, clockMs: number): SessionEntry[] | string {
  if (!Array.isArray(rows)) return "snapshot sessions must be an array";
  const sessions: SessionEntry[] = [];
  const seen = new Set<string>();
  let previousUsedMs = 0;
  for (const row of rows as unknown[]) {
    if (!Array.isArray(row) || row.length !== 4) return "a session must be [clientId, lastSeq, lastUsedMs, result]";
    const [clientId, lastSeq, lastUsedMs, result] = row as unknown[];
    if (typeof clientId !== "string" || clientId.length === 0 || seen.has(clientId)) {
      return "session client ids must be distinct non-empty strings";
    }
    if (!isCount(lastSeq) || lastSeq < 1) return "session lastSeq must be a positive safe integer";
    if (!isCount(lastUsedMs) || lastUsedMs < previousUsedMs || lastUsedMs > clockMs) {
      return "sessions must be in least recently used order, used no later than the clock";
    }
    if (!isJsonObject(result) || typeof result.ok !== "boolean") return "session result must be an apply result";
    seen.add(clientId);
    previousUsedMs = lastUsedMs;
    sessions.push({ clientId, lastSeq, lastUsedMs, result: result as unknown as ApplyResult });
  }
  return sessions;
}

function readOwnership(raw: unknown): RangeOwnership | string {
  if (!isJsonObject(raw)) return "snapshot ownership must be an object";
  const { mode, epoch, spans, frozen, incoming, departed, ended } = raw;
  if (!Array.isArray(ended) || ended.some((item) => !isJsonObject(item) || typeof item.saga !== "string" || typeof item.committed !== "boolean")) return "snapshot ownership ended sagas are malformed";
  if (mode !== "range" && mode !== "hash") return "snapshot ownership mode must be range or hash";
  if (!isCount(epoch) || epoch < 1) return "snapshot ownership epoch must be a positive safe integer";
  if (!Array.isArray(spans) || spans.some((span) => spanProblemOf(span) !== undefined)) return "snapshot ownership spans are malformed";
  for (const list of [frozen, incoming, departed]) {
    if (!Array.isArray(list) || list.some((item) => !isJsonObject(item) || spanProblemOf(item.span) !== undefined)) return "snapshot ownership lists are malformed";
  }
  return raw as unknown as RangeOwnership;
}

function readEntries(reader: ByteReader, entryCount: number, versionCounter: number): KvEntry[] | string {
  const entries: KvEntry[] = [];
  let previousKey: string | undefined;
  for (let index = 0; index < entryCount; index++) {
    const key = reader.readFramedText();
    const version = reader.readSafeInteger();
    const valueLength = reader.readUint32();
    if (key === undefined || version === undefined || valueLength === undefined) return `entry ${index} is truncated`;
    const keyProblem = keyProblemOf(key);
    if (keyProblem !== undefined) return `entry ${index}: ${keyProblem}`;
    if (previousKey !== undefined && compareKeys(previousKey, key) >= 0) return "entries must ascend by key";
    if (version < 1 || version > versionCounter) return `entry ${index} has version ${version} outside 1..${versionCounter}`;
    if (valueLength > valueBytesMax) return `entry ${index} has a value over ${valueBytesMax} bytes`;
    const value = reader.readBytes(valueLength);
    if (value === undefined) return `entry ${index} value is truncated`;
    entries.push({ key, value, version });
    previousKey = key;
  }
  return entries;
}

function badSnapshot(reason: string): DecodedSnapshot {
  return { ok: false, code: "badSnapshot", reason };
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
