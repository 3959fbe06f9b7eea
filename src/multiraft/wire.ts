/**
 * The wire format of Raft traffic between replicas: a batch of messages for one group, from one
 * replica to another, in a compact binary encoding (integers as varints, see kv/binary.ts):
 *
 *   batch    magic 0xEB, version 1, group (text), from (varint > 0), to (varint > 0),
 *            message count (varint), messages
 *   message  type (1 byte, an index into messageTypeCodes), flags (1 byte, messageFlags),
 *            from, to, term, logTerm, index, commit, rejectHint (varints), context (text),
 *            entry count (varint), entries, then a snapshot chunk when flags say so
 *   entry    term, index (varints), kind (1 byte: 0 normal, 1 confChange), data (bytes)
 *   chunk    meta index, meta term (varints), voters, votersOutgoing, learners, learnersNext
 *            (each an id count and varint ids > 0), conf flags (1 byte, bit 0 autoLeave),
 *            offset, totalBytes (varints), data (bytes)
 *   text     varint length, then that many bytes of UTF-8; bytes: varint length, then the bytes
 *
 * Decoding validates every field and never throws, so a malformed or hostile body is refused as a
 * value and never reaches the engine. Each batch has exactly one encoding (canonical varints, no
 * unknown flag bits, no trailing bytes): bytes that decode re-encode to themselves. A peer of
 * another version (or of the JSON format before it) is refused by the magic and version bytes.
 */
import { assert } from "../shared/assert.ts";
import { ByteReader, ByteWriter, utf8LengthOf, varintLengthOf } from "../kv/binary.ts";
import type { ConfState, Entry, Message, MessageType, SnapshotChunk } from "../raft/types.ts";

/** Messages for one group's replica `to`, sent by replica `from`. */
export interface MessageBatch {
  group: string;
  from: number;
  to: number;
  messages: Message[];
}

/** The outcome of decoding: the batch, or why the bytes are not one. */
export type DecodedBatch = { ok: true; batch: MessageBatch } | { ok: false; error: string };

/** First byte of every batch; a JSON body (the format before this one) starts with "{" instead. */
export const wireMagic = 0xeb;
/** The format version byte this module writes and reads. */
export const wireFormatVersion = 1;

/** Message type codes: a type's code is its position. Part of the format: append only, never reorder. */
const messageTypeCodes: readonly MessageType[] = [
  "app", "appResp", "vote", "voteResp", "preVote", "preVoteResp", "heartbeat", "heartbeatResp",
  "snap", "snapResp", "prop", "readIndex", "readIndexResp", "transferLeader", "timeoutNow", "wake",
];
const codeOfMessageType = new Map(messageTypeCodes.map((type, code) => [type, code]));

/** Bits of a message's flags byte; any other bit set makes the message malformed. */
const messageFlags = { reject: 1, quiesce: 2, transfer: 4, lease: 8, snapshot: 16 } as const;
const messageFlagsKnown = 31;
/** Bits of a conf state's flags byte. */
const confFlags = { autoLeave: 1 } as const;
const confFlagsKnown = 1;

/** Fewest bytes a message, an entry and an id take: counts are checked against these before looping. */
const messageBytesMin = 2 + 7 + 1 + 1;
const entryBytesMin = 4;
const idBytesMin = 1;

/** Encodes a batch. Strings must be well-formed UTF-16 and ids positive (asserted). */
export function encodeBatch(batch: MessageBatch): Uint8Array {
  assert(isId(batch.from) && isId(batch.to), "a batch goes from one replica id to another");
  const groupLength = utf8LengthOf(batch.group);
  let length = 2 + varintLengthOf(groupLength) + groupLength + varintLengthOf(batch.from) + varintLengthOf(batch.to);
  length += varintLengthOf(batch.messages.length);
  for (const message of batch.messages) length += messageLengthOf(message);
  const writer = new ByteWriter(length);
  writer.writeUint8(wireMagic);
  writer.writeUint8(wireFormatVersion);
  writer.writeVarint(groupLength);
  writer.writeText(batch.group, groupLength);
  writer.writeVarint(batch.from);
  writer.writeVarint(batch.to);
  writer.writeVarint(batch.messages.length);
  for (const message of batch.messages) writeMessage(writer, message);
  return writer.finish();
}

function contextLengthOf(message: Message): number {
  return message.context === "" ? 0 : utf8LengthOf(message.context);
}

function messageLengthOf(m: Message): number {
  const contextLength = contextLengthOf(m);
  let length = 2 + varintLengthOf(m.from) + varintLengthOf(m.to) + varintLengthOf(m.term) + varintLengthOf(m.logTerm);
  length += varintLengthOf(m.index) + varintLengthOf(m.commit) + varintLengthOf(m.rejectHint);
  length += varintLengthOf(contextLength) + contextLength + varintLengthOf(m.entries.length);
  for (const e of m.entries) length += varintLengthOf(e.term) + varintLengthOf(e.index) + 1 + varintLengthOf(e.data.length) + e.data.length;
  if (m.snapshot !== null) length += chunkLengthOf(m.snapshot);
  return length;
}

function chunkLengthOf(chunk: SnapshotChunk): number {
  const { meta } = chunk;
  let length = varintLengthOf(meta.index) + varintLengthOf(meta.term) + 1;
  for (const ids of idListsOf(meta.conf)) {
    length += varintLengthOf(ids.length);
    for (const id of ids) length += varintLengthOf(id);
  }
  return length + varintLengthOf(chunk.offset) + varintLengthOf(chunk.totalBytes) + varintLengthOf(chunk.data.length) + chunk.data.length;
}

function idListsOf(conf: ConfState): NodeIdLists {
  return [conf.voters, conf.votersOutgoing, conf.learners, conf.learnersNext];
}
type NodeIdLists = [number[], number[], number[], number[]];

function writeMessage(writer: ByteWriter, m: Message): void {
  const code = codeOfMessageType.get(m.type);
  assert(code !== undefined, () => `message type ${m.type} has a wire code`);
  writer.writeUint8(code);
  let flags = 0;
  if (m.reject) flags |= messageFlags.reject;
  if (m.quiesce) flags |= messageFlags.quiesce;
  if (m.transfer) flags |= messageFlags.transfer;
  if (m.lease) flags |= messageFlags.lease;
  if (m.snapshot !== null) flags |= messageFlags.snapshot;
  writer.writeUint8(flags);
  writer.writeVarint(m.from);
  writer.writeVarint(m.to);
  writer.writeVarint(m.term);
  writer.writeVarint(m.logTerm);
  writer.writeVarint(m.index);
  writer.writeVarint(m.commit);
  writer.writeVarint(m.rejectHint);
  const contextLength = contextLengthOf(m);
  writer.writeVarint(contextLength);
  writer.writeText(m.context, contextLength);
  writer.writeVarint(m.entries.length);
  for (const e of m.entries) {
    writer.writeVarint(e.term);
    writer.writeVarint(e.index);
    writer.writeUint8(e.type === "normal" ? 0 : 1);
    writer.writeVarint(e.data.length);
    writer.writeBytes(e.data);
  }
  if (m.snapshot !== null) writeChunk(writer, m.snapshot);
}

function writeChunk(writer: ByteWriter, chunk: SnapshotChunk): void {
  writer.writeVarint(chunk.meta.index);
  writer.writeVarint(chunk.meta.term);
  for (const ids of idListsOf(chunk.meta.conf)) {
    writer.writeVarint(ids.length);
    for (const id of ids) {
      assert(isId(id), "conf state ids are positive");
      writer.writeVarint(id);
    }
  }
  writer.writeUint8(chunk.meta.conf.autoLeave ? confFlags.autoLeave : 0);
  writer.writeVarint(chunk.offset);
  writer.writeVarint(chunk.totalBytes);
  writer.writeVarint(chunk.data.length);
  writer.writeBytes(chunk.data);
}

/** Decodes bytes written by encodeBatch, or says why they are not a batch; never throws. */
export function decodeBatch(bytes: Uint8Array): DecodedBatch {
  if (!(bytes instanceof Uint8Array)) return refuse("batch must be a Uint8Array");
  const reader = new ByteReader(bytes);
  const magic = reader.readUint8();
  if (magic !== wireMagic) {
    const json = magic === 0x7b ? " (it looks like JSON: the sender speaks the older JSON wire format)" : "";
    return refuse(`not a Raft batch: first byte is ${magic ?? "missing"}, expected ${wireMagic}${json}`);
  }
  const version = reader.readUint8();
  if (version !== wireFormatVersion) return refuse(`Raft wire format version ${version ?? "missing"}; this replica speaks version ${wireFormatVersion}`);
  const group = readText(reader);
  if (group === undefined) return refuse("group is truncated or not UTF-8");
  const from = reader.readVarint();
  const to = reader.readVarint();
  if (!isId(from) || !isId(to)) return refuse("batch from and to must be positive safe integers (canonical varints)");
  const count = reader.readVarint();
  if (count === undefined || count * messageBytesMin > reader.remaining) return refuse("message count is malformed or larger than the body");
  const messages: Message[] = [];
  for (let position = 0; position < count; position++) {
    const message = readMessage(reader);
    if (typeof message === "string") return refuse(`message ${position}: ${message}`);
    messages.push(message);
  }
  if (reader.remaining !== 0) return refuse(`${reader.remaining} bytes follow the last message`);
  return { ok: true, batch: { group, from, to, messages } };
}

function refuse(error: string): DecodedBatch {
  return { ok: false, error };
}

/** Varint-framed UTF-8 text, or undefined when truncated or not UTF-8. */
function readText(reader: ByteReader): string | undefined {
  const length = reader.readVarint();
  return length === undefined ? undefined : reader.readText(length);
}

/** Varint-framed bytes (a copy), or undefined when truncated. */
function readData(reader: ByteReader): Uint8Array | undefined {
  const length = reader.readVarint();
  return length === undefined ? undefined : reader.readBytes(length);
}

const numberProblem = "a number is truncated, not a canonical varint or not a safe integer";

/** One message, or why it is malformed. */
function readMessage(reader: ByteReader): Message | string {
  const code = reader.readUint8();
  const flags = reader.readUint8();
  if (code === undefined || flags === undefined) return "truncated";
  const type = messageTypeCodes[code];
  if (type === undefined) return `unknown message type ${code}`;
  if ((flags & ~messageFlagsKnown) !== 0) return `unknown flag bits ${flags & ~messageFlagsKnown}`;
  const from = reader.readVarint();
  const to = reader.readVarint();
  const term = reader.readVarint();
  const logTerm = reader.readVarint();
  const index = reader.readVarint();
  const commit = reader.readVarint();
  const rejectHint = reader.readVarint();
  if (from === undefined || to === undefined || term === undefined || logTerm === undefined) return numberProblem;
  if (index === undefined || commit === undefined || rejectHint === undefined) return numberProblem;
  const context = readText(reader);
  if (context === undefined) return "context is truncated or not UTF-8";
  const entries = readEntries(reader);
  if (typeof entries === "string") return entries;
  const snapshot = (flags & messageFlags.snapshot) === 0 ? null : readChunk(reader);
  if (typeof snapshot === "string") return snapshot;
  return {
    type,
    from,
    to,
    term,
    logTerm,
    index,
    entries,
    commit,
    reject: (flags & messageFlags.reject) !== 0,
    rejectHint,
    context,
    snapshot,
    quiesce: (flags & messageFlags.quiesce) !== 0,
    transfer: (flags & messageFlags.transfer) !== 0,
    lease: (flags & messageFlags.lease) !== 0,
  };
}

function readEntries(reader: ByteReader): Entry[] | string {
  const count = reader.readVarint();
  if (count === undefined || count * entryBytesMin > reader.remaining) return "entry count is malformed or larger than the body";
  const entries: Entry[] = [];
  for (let position = 0; position < count; position++) {
    const term = reader.readVarint();
    const index = reader.readVarint();
    const kind = reader.readUint8();
    if (term === undefined || index === undefined) return `entry ${position}: ${numberProblem}`;
    if (kind !== 0 && kind !== 1) return `entry ${position}: unknown entry kind ${kind ?? "(truncated)"}`;
    const data = readData(reader);
    if (data === undefined) return `entry ${position}: data is truncated`;
    entries.push({ term, index, type: kind === 0 ? "normal" : "confChange", data });
  }
  return entries;
}

function readChunk(reader: ByteReader): SnapshotChunk | string {
  const index = reader.readVarint();
  const term = reader.readVarint();
  if (index === undefined || term === undefined) return `snapshot meta: ${numberProblem}`;
  const lists: number[][] = [];
  for (let list = 0; list < 4; list++) {
    const ids = readIds(reader);
    if (ids === undefined) return "snapshot conf state: an id list is truncated or holds a zero id";
    lists.push(ids);
  }
  const flags = reader.readUint8();
  if (flags === undefined || (flags & ~confFlagsKnown) !== 0) return "snapshot conf state: flags are truncated or unknown";
  const offset = reader.readVarint();
  const totalBytes = reader.readVarint();
  if (offset === undefined || totalBytes === undefined) return `snapshot chunk: ${numberProblem}`;
  const data = readData(reader);
  if (data === undefined) return "snapshot chunk: data is truncated";
  const [voters, votersOutgoing, learners, learnersNext] = lists as NodeIdLists;
  const conf: ConfState = { voters, votersOutgoing, learners, learnersNext, autoLeave: (flags & confFlags.autoLeave) !== 0 };
  return { meta: { index, term, conf }, offset, totalBytes, data };
}

function readIds(reader: ByteReader): number[] | undefined {
  const count = reader.readVarint();
  if (count === undefined || count * idBytesMin > reader.remaining) return undefined;
  const ids: number[] = [];
  for (let position = 0; position < count; position++) {
    const id = reader.readVarint();
    if (!isId(id)) return undefined;
    ids.push(id);
  }
  return ids;
}

function isId(value: number | undefined): value is number {
  return value !== undefined && Number.isSafeInteger(value) && value > 0;
}
