/**
 * Coalesced heartbeats (after CockroachDB's coalesced heartbeats and TiKV's batched region
 * heartbeats): the heartbeats and heartbeat responses of every group bound for one node travel as
 * ONE record of the node frame, a compact array of the fields that differ per group, instead of one
 * batch (with its own header) per group. On arrival the record fans out into the ordinary per-group
 * Raft messages, field for field, so the engine sees exactly the messages it would have seen.
 *
 *   record     heartbeat count (varint, 0..coalescedHeartbeatsMax), then per heartbeat:
 *   heartbeat  flags (1 byte: bit 0 response, bit 1 reject, bit 2 quiesce), group (text),
 *              from, to, term, logTerm, index, commit, rejectHint (varints), context (text)
 *
 * Only a plain heartbeat is coalesced: no entries, no snapshot, no transfer or lease flag, and the
 * same from/to as its batch; anything else stays in its batch.
 */
import { ByteReader, ByteWriter, utf8LengthOf, varintLengthOf } from "../kv/binary.ts";
import { assert } from "../shared/assert.ts";
import type { Message } from "../raft/types.ts";
import type { MessageBatch } from "./wire.ts";

/** Most heartbeats in one coalesced record (a node with more groups sends several frames). */
export const coalescedHeartbeatsMax = 100_000;

/** One group's heartbeat in a coalesced record: the batch it came from and the message. */
export interface CoalescedHeartbeat {
  group: string;
  message: Message;
}

/** Bits of a coalesced heartbeat's flags byte. */
const heartbeatFlags = { response: 1, reject: 2, quiesce: 4 } as const;
const heartbeatFlagsKnown = 7;
/** Fewest bytes one coalesced heartbeat takes: flags, group length, seven varints, context length. */
const heartbeatBytesMin = 10;

/** Whether `message` of `batch` can travel in a coalesced record and come back identical. */
export function isCoalescible(batch: MessageBatch, message: Message): boolean {
  return (
    (message.type === "heartbeat" || message.type === "heartbeatResp") &&
    message.from === batch.from && message.to === batch.to && message.entries.length === 0 &&
    message.snapshot === null && !message.transfer && !message.lease
  );
}

/** Splits batches into the batches that stay (without their coalescible messages) and the coalesced heartbeats. */
export function coalesceHeartbeats(batches: readonly MessageBatch[]): { batches: MessageBatch[]; heartbeats: CoalescedHeartbeat[] } {
  const kept: MessageBatch[] = [];
  const heartbeats: CoalescedHeartbeat[] = [];
  for (const batch of batches) {
    const others = batch.messages.filter((message) => !isCoalescible(batch, message));
    for (const message of batch.messages) if (isCoalescible(batch, message)) heartbeats.push({ group: batch.group, message });
    // A batch emptied by coalescing is dropped; one that was empty to begin with stays as it was.
    if (others.length > 0 || batch.messages.length === 0) kept.push(others.length === batch.messages.length ? batch : { ...batch, messages: others });
  }
  return { batches: kept, heartbeats };
}

/** Fans coalesced heartbeats out into per-group batches (consecutive heartbeats of one replica pair share a batch). */
export function fanOutHeartbeats(heartbeats: readonly CoalescedHeartbeat[]): MessageBatch[] {
  const batches: MessageBatch[] = [];
  for (const { group, message } of heartbeats) {
    const last = batches.at(-1);
    if (last !== undefined && last.group === group && last.from === message.from && last.to === message.to) last.messages.push(message);
    else batches.push({ group, from: message.from, to: message.to, messages: [message] });
  }
  return batches;
}

/** Bytes the record of `heartbeats` takes. */
export function coalescedLengthOf(heartbeats: readonly CoalescedHeartbeat[]): number {
  let length = varintLengthOf(heartbeats.length);
  for (const { group, message: m } of heartbeats) {
    const groupLength = utf8LengthOf(group);
    const contextLength = m.context === "" ? 0 : utf8LengthOf(m.context);
    length += 1 + varintLengthOf(groupLength) + groupLength + varintLengthOf(contextLength) + contextLength;
    for (const value of [m.from, m.to, m.term, m.logTerm, m.index, m.commit, m.rejectHint]) length += varintLengthOf(value);
  }
  return length;
}

/** Writes the record of `heartbeats` (each coalescible, asserted by type). */
export function writeCoalescedHeartbeats(writer: ByteWriter, heartbeats: readonly CoalescedHeartbeat[]): void {
  assert(heartbeats.length <= coalescedHeartbeatsMax, "a record holds at most coalescedHeartbeatsMax heartbeats");
  writer.writeVarint(heartbeats.length);
  for (const { group, message: m } of heartbeats) {
    assert(m.type === "heartbeat" || m.type === "heartbeatResp", "only heartbeats are coalesced");
    let flags = m.type === "heartbeatResp" ? heartbeatFlags.response : 0;
    if (m.reject) flags |= heartbeatFlags.reject;
    if (m.quiesce) flags |= heartbeatFlags.quiesce;
    writer.writeUint8(flags);
    const groupLength = utf8LengthOf(group);
    writer.writeVarint(groupLength);
    writer.writeText(group, groupLength);
    for (const value of [m.from, m.to, m.term, m.logTerm, m.index, m.commit, m.rejectHint]) writer.writeVarint(value);
    const contextLength = m.context === "" ? 0 : utf8LengthOf(m.context);
    writer.writeVarint(contextLength);
    writer.writeText(m.context, contextLength);
  }
}

/** Reads a record written by writeCoalescedHeartbeats, or says why it is malformed; never throws. */
export function readCoalescedHeartbeats(reader: ByteReader): CoalescedHeartbeat[] | string {
  const count = reader.readVarint();
  if (count === undefined || count > coalescedHeartbeatsMax || count * heartbeatBytesMin > reader.remaining) return "heartbeat count is malformed or larger than the frame";
  const heartbeats: CoalescedHeartbeat[] = [];
  for (let position = 0; position < count; position++) {
    const heartbeat = readHeartbeat(reader);
    if (typeof heartbeat === "string") return `heartbeat ${position}: ${heartbeat}`;
    heartbeats.push(heartbeat);
  }
  return heartbeats;
}

function readHeartbeat(reader: ByteReader): CoalescedHeartbeat | string {
  const flags = reader.readUint8();
  if (flags === undefined || (flags & ~heartbeatFlagsKnown) !== 0) return "flags are truncated or unknown";
  const groupLength = reader.readVarint();
  const group = groupLength === undefined ? undefined : reader.readText(groupLength);
  if (group === undefined) return "group is truncated or not UTF-8";
  const values: number[] = [];
  for (let field = 0; field < 7; field++) {
    const value = reader.readVarint();
    if (value === undefined) return "a number is truncated, not a canonical varint or not a safe integer";
    values.push(value);
  }
  const [from, to, term, logTerm, index, commit, rejectHint] = values as [number, number, number, number, number, number, number];
  if (from < 1 || to < 1) return "from and to must be positive";
  const contextLength = reader.readVarint();
  const context = contextLength === undefined ? undefined : reader.readText(contextLength);
  if (context === undefined) return "context is truncated or not UTF-8";
  const message: Message = {
    type: (flags & heartbeatFlags.response) !== 0 ? "heartbeatResp" : "heartbeat",
    from, to, term, logTerm, index, entries: [], commit,
    reject: (flags & heartbeatFlags.reject) !== 0, rejectHint, context, snapshot: null,
    quiesce: (flags & heartbeatFlags.quiesce) !== 0, transfer: false, lease: false,
  };
  return { group, message };
}
