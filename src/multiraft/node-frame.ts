/**
 * The frame one node sends another over their one connection: the Raft batches of every group
 * that had messages for that node since the last frame, each in the batch format of wire.ts, and
 * the plain heartbeats of all those groups as one coalesced record (coalesced-heartbeats.ts), so
 * the records on the wire between two nodes do not grow with the number of heartbeating groups.
 *
 *   frame  magic 0xEC, version 2, batch count (varint, 0..nodeFrameBatchesMax),
 *          then per batch: length (varint), the batch's bytes (wire.ts);
 *          then the coalesced heartbeat record (count 0 when there is none)
 *
 * A frame holds at least one batch or heartbeat. Decoding validates the frame and every batch in
 * it and never throws; a frame with any malformed batch, a batch holding a heartbeat that should
 * have been coalesced (each frame has one encoding), a count or length that does not fit, or
 * trailing bytes is refused whole. Decoded, the heartbeats come back as batches after the others.
 */
import { ByteReader, ByteWriter, varintLengthOf } from "../kv/binary.ts";
import { assert } from "../shared/assert.ts";
import { decodeBatch, encodeBatch, type MessageBatch } from "./wire.ts";
import { coalesceHeartbeats, coalescedLengthOf, fanOutHeartbeats, isCoalescible, readCoalescedHeartbeats, writeCoalescedHeartbeats } from "./coalesced-heartbeats.ts";

/** First byte of every node frame (a single batch starts with 0xEB). */
export const nodeFrameMagic = 0xec;
/** The node frame format version this module writes and reads. */
export const nodeFrameVersion = 2;
/** Most batches in one frame; a sender with more splits them over several frames. */
export const nodeFrameBatchesMax = 10_000;

/** The outcome of decoding a frame: the batches, with each run of coalesced heartbeats fanned out into a batch. */
export type DecodedNodeFrame = { ok: true; batches: MessageBatch[]; coalescedHeartbeats: number } | { ok: false; error: string };

/** Encodes 1..nodeFrameBatchesMax batches into one frame, their plain heartbeats coalesced. */
export function encodeNodeFrame(batches: readonly MessageBatch[]): Uint8Array {
  assert(batches.length >= 1 && batches.length <= nodeFrameBatchesMax, "a frame holds 1..nodeFrameBatchesMax batches");
  const coalesced = coalesceHeartbeats(batches);
  const encoded = coalesced.batches.map(encodeBatch);
  let length = 2 + varintLengthOf(encoded.length) + coalescedLengthOf(coalesced.heartbeats);
  for (const bytes of encoded) length += varintLengthOf(bytes.length) + bytes.length;
  const writer = new ByteWriter(length);
  writer.writeUint8(nodeFrameMagic);
  writer.writeUint8(nodeFrameVersion);
  writer.writeVarint(encoded.length);
  for (const bytes of encoded) {
    writer.writeVarint(bytes.length);
    writer.writeBytes(bytes);
  }
  writeCoalescedHeartbeats(writer, coalesced.heartbeats);
  return writer.finish();
}

/** Decodes a frame, refusing anything malformed as a value. */
export function decodeNodeFrame(bytes: Uint8Array): DecodedNodeFrame {
  const reader = new ByteReader(bytes);
  if (reader.readUint8() !== nodeFrameMagic) return { ok: false, error: "not a node frame (magic byte)" };
  if (reader.readUint8() !== nodeFrameVersion) return { ok: false, error: "unsupported node frame version" };
  const count = reader.readVarint();
  if (count === undefined || count > nodeFrameBatchesMax) return { ok: false, error: "batch count out of range" };
  const batches: MessageBatch[] = [];
  for (let i = 0; i < count; i++) {
    const length = reader.readVarint();
    const batchBytes = length === undefined ? undefined : reader.readBytes(length);
    if (batchBytes === undefined) return { ok: false, error: `batch ${i} is truncated` };
    const decoded = decodeBatch(batchBytes);
    if (!decoded.ok) return { ok: false, error: `batch ${i}: ${decoded.error}` };
    if (decoded.batch.messages.some((message) => isCoalescible(decoded.batch, message))) return { ok: false, error: `batch ${i} holds a heartbeat outside the coalesced record` };
    batches.push(decoded.batch);
  }
  const heartbeats = readCoalescedHeartbeats(reader);
  if (typeof heartbeats === "string") return { ok: false, error: heartbeats };
  if (count === 0 && heartbeats.length === 0) return { ok: false, error: "an empty frame" };
  if (reader.remaining !== 0) return { ok: false, error: "trailing bytes after the heartbeat record" };
  return { ok: true, batches: [...batches, ...fanOutHeartbeats(heartbeats)], coalescedHeartbeats: heartbeats.length };
}
