/**
 * Proves the node frame (all groups' batches for one node in one WebSocket message, their heartbeats
 * coalesced) round-trips exactly and refuses, as a value and without throwing, anything damaged: a
 * wrong magic or version, an empty frame, a truncated or corrupted batch, or trailing bytes. Property tests
 * over random frames and random damage, and fixed cases for each rule.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeNodeFrame, encodeNodeFrame, nodeFrameBatchesMax, nodeFrameMagic, nodeFrameVersion } from "../../src/multiraft/node-frame.ts";
import type { MessageBatch } from "../../src/multiraft/wire.ts";
import type { Message } from "../../src/raft/types.ts";

const heartbeat = (from: number, to: number, term: number): Message => ({
  type: "heartbeat", from, to, term, logTerm: 0, index: 0, entries: [], commit: term, reject: false, rejectHint: 0,
  context: "", snapshot: null, quiesce: false, transfer: false, lease: false,
});

const anyBatch: fc.Arbitrary<MessageBatch> = fc
  .record({ group: fc.string({ unit: "binary", maxLength: 20 }), from: fc.integer({ min: 1, max: 9 }), to: fc.integer({ min: 1, max: 9 }), terms: fc.array(fc.nat(1_000_000), { maxLength: 5 }) })
  .map(({ group, from, to, terms }) => ({ group, from, to, messages: terms.map((term) => heartbeat(from, to, term)) }));
const anyFrame = fc.array(anyBatch, { minLength: 1, maxLength: 12 });

describe("node frames", () => {
  it("round-trip every frame of valid batches exactly", () => {
    fc.assert(fc.property(anyFrame, (batches) => {
      const decoded = decodeNodeFrame(encodeNodeFrame(batches));
      expect(decoded.ok).toBe(true);
      if (decoded.ok) expect(encodeNodeFrame(decoded.batches)).toEqual(encodeNodeFrame(batches));
    }));
  });

  it("refuse every truncation and any trailing byte", () => {
    fc.assert(fc.property(anyFrame, fc.nat(), fc.nat(255), (batches, cut, extra) => {
      const bytes = encodeNodeFrame(batches);
      expect(decodeNodeFrame(bytes.subarray(0, cut % bytes.length)).ok).toBe(false);
      expect(decodeNodeFrame(Uint8Array.from([...bytes, extra])).ok).toBe(false);
    }));
  });

  it("never throw on corrupted bytes, and what decodes re-encodes to itself", () => {
    fc.assert(fc.property(anyFrame, fc.nat(), fc.nat(255), (batches, position, value) => {
      const bytes = encodeNodeFrame(batches).slice();
      bytes[position % bytes.length] = value;
      const decoded = decodeNodeFrame(bytes);
      if (decoded.ok) expect(encodeNodeFrame(decoded.batches)).toEqual(bytes);
    }));
  });

  it("refuse a wrong magic, another version and an empty frame", () => {
    const bytes = encodeNodeFrame([{ group: "g", from: 1, to: 2, messages: [heartbeat(1, 2, 3)] }]);
    expect(bytes[0]).toBe(nodeFrameMagic);
    expect(decodeNodeFrame(Uint8Array.from([0xeb, ...bytes.subarray(1)]))).toEqual({ ok: false, error: "not a node frame (magic byte)" });
    expect(decodeNodeFrame(Uint8Array.from([nodeFrameMagic, nodeFrameVersion + 1, ...bytes.subarray(2)])).ok).toBe(false);
    expect(decodeNodeFrame(Uint8Array.from([nodeFrameMagic, nodeFrameVersion, 0, 0]))).toEqual({ ok: false, error: "an empty frame" });
    expect(decodeNodeFrame(Uint8Array.from([nodeFrameMagic, nodeFrameVersion, 0]))).toEqual({ ok: false, error: "heartbeat count is malformed or larger than the frame" });
    expect(() => encodeNodeFrame([])).toThrow();
    expect(nodeFrameBatchesMax).toBeGreaterThan(1_000);
  });
});
