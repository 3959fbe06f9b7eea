/**
 * The frame one node sends another over their one connection: the Raft batches of every group
 * that had messages for that node since the last frame, each in the batch format of wire.ts.
 *
 *   frame  magic 0xEC, version 1, batch count (varint, 1..nodeFrameBatchesMax),
 *          then per batch: length (varint), the batch's bytes (wire.ts)
 *
 * Decoding validates the frame and every batch in it and never throws; a frame with any malformed
 * batch, a count or length that does not fit, or trailing bytes is refused whole.
 */
import { ByteReader, ByteWriter, varintLengthOf } from "../kv/binary.ts";
import { assert } from "../shared/assert.ts";
import { decodeBatch, encodeBatch, type MessageBatch } from "./wire.ts";

/** First byte of every node frame (a single batch starts with 0xEB). */
export const nodeFrameMagic = 0xec;
/** The node frame format version this module writes and reads. */
export const nodeFrameVersion = 1;
/** Most batches in one frame; a sender with more splits them over several frames. */
export const nodeFrameBatchesMax = 10_000;

/** The outcome of decoding a frame. */
export type DecodedNodeFrame = { ok: true; batches: MessageBatch[] } | { ok: false; error: string };

/** Encodes 1..nodeFrameBatchesMax batches into one frame. */
export function encodeNodeFrame(batches: readonly MessageBatch[]): Uint8Array {
  assert(batches.length >= 1 && batches.length <= nodeFrameBatchesMax, "a frame holds 1..nodeFrameBatchesMax batches");
  const encoded = batches.map(encodeBatch);
  let length = 2 + varintLengthOf(encoded.length);
  for (const bytes of encoded) length += varintLengthOf(bytes.length) + bytes.length;
  const writer = new ByteWriter(length);
  writer.writeUint8(nodeFrameMagic);
  writer.writeUint8(nodeFrameVersion);
  writer.writeVarint(encoded.length);
  for (const bytes of encoded) {
    writer.writeVarint(bytes.length);
    writer.writeBytes(bytes);
  }
  return writer.finish();
}

/** Decodes a frame, refusing anything malformed as a value. */
export function decodeNodeFrame(bytes: Uint8Array): DecodedNodeFrame {
  const reader = new ByteReader(bytes);
  if (reader.readUint8() !== nodeFrameMagic) return { ok: false, error: "not a node frame (magic byte)" };
  if (reader.readUint8() !== nodeFrameVersion) return { ok: false, error: "unsupported node frame version" };
  const count = reader.readVarint();
  if (count === undefined || count < 1 || count > nodeFrameBatchesMax) return { ok: false, error: "batch count out of range" };
  const batches: MessageBatch[] = [];
  for (let i = 0; i < count; i++) {
    const length = reader.readVarint();
    const batchBytes = length === undefined ? undefined : reader.readBytes(length);
    if (batchBytes === undefined) return { ok: false, error: `batch ${i} is truncated` };
    const decoded = decodeBatch(batchBytes);
    if (!decoded.ok) return { ok: false, error: `batch ${i}: ${decoded.error}` };
    batches.push(decoded.batch);
  }
  if (reader.remaining !== 0) return { ok: false, error: "trailing bytes after the last batch" };
  return { ok: true, batches };
}
