/**
 * Proves that coalescing heartbeats in a node frame is invisible to the engine: for random frames
 * mixing heartbeats, heartbeat responses (with reject, quiesce, ReadIndex contexts, lease ticks)
 * and other messages of many groups, the decoded frame hands every replica pair exactly the
 * messages it was sent, in the order they were sent per kind; that all plain heartbeats of a frame
 * travel as one record (so the records on the wire do not grow with the groups) while a
 * heartbeat that cannot be rebuilt exactly stays in its batch; and that the coalesced frame is
 * smaller than the batches it replaces.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { coalesceHeartbeats, fanOutHeartbeats, isCoalescible } from "../../src/multiraft/coalesced-heartbeats.ts";
import { decodeNodeFrame, encodeNodeFrame } from "../../src/multiraft/node-frame.ts";
import { encodeBatch, type MessageBatch } from "../../src/multiraft/wire.ts";
import type { Message, MessageType } from "../../src/raft/types.ts";

const message = (type: MessageType, from: number, to: number, fields: Partial<Message> = {}): Message => ({
  type, from, to, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0,
  context: "", snapshot: null, quiesce: false, transfer: false, lease: false, ...fields,
});

const anyMessage = (from: number, to: number): fc.Arbitrary<Message> =>
  fc
    .record({
      type: fc.constantFrom<MessageType>("heartbeat", "heartbeatResp", "heartbeat", "heartbeatResp", "app", "appResp", "readIndexResp"),
      term: fc.nat(1_000_000), logTerm: fc.nat(1_000), index: fc.nat(1_000_000), commit: fc.nat(1_000_000), rejectHint: fc.nat(1_000_000),
      reject: fc.boolean(), quiesce: fc.boolean(), transfer: fc.boolean(), lease: fc.boolean(),
      context: fc.oneof(fc.constant(""), fc.string({ maxLength: 12 })),
      entries: fc.array(fc.record({ term: fc.nat(9), index: fc.nat(99), type: fc.constant("normal" as const), data: fc.uint8Array({ maxLength: 4 }) }), { maxLength: 2 }),
      // Now and then a message whose from differs from its batch's: a heartbeat of that kind stays in the batch.
      foreignFrom: fc.boolean(),
    })
    .map(({ foreignFrom, ...fields }) => message(fields.type, foreignFrom ? from + 1 : from, to, fields));

const anyBatch: fc.Arbitrary<MessageBatch> = fc
  .record({ group: fc.string({ unit: "binary", maxLength: 12 }), from: fc.integer({ min: 1, max: 5 }), to: fc.integer({ min: 1, max: 5 }) })
  .chain(({ group, from, to }) => fc.array(anyMessage(from, to), { maxLength: 5 }).map((messages) => ({ group, from, to, messages })));
const anyFrame = fc.array(anyBatch, { minLength: 1, maxLength: 16 });

/** Every replica pair's messages, split into the coalescible ones and the others, each list in order. */
function perReplicaPair(batches: readonly MessageBatch[]): Map<string, { heartbeats: Message[]; others: Message[] }> {
  const pairs = new Map<string, { heartbeats: Message[]; others: Message[] }>();
  for (const batch of batches) {
    const key = JSON.stringify([batch.group, batch.from, batch.to]);
    const pair = pairs.get(key) ?? { heartbeats: [], others: [] };
    pairs.set(key, pair);
    for (const m of batch.messages) (isCoalescible(batch, m) ? pair.heartbeats : pair.others).push(m);
  }
  for (const [key, pair] of pairs) if (pair.heartbeats.length + pair.others.length === 0) pairs.delete(key);
  return pairs;
}

describe("coalesced heartbeats", () => {
  it("fan out into exactly the messages each replica pair was sent", () => {
    fc.assert(fc.property(anyFrame, (batches) => {
      const decoded = decodeNodeFrame(encodeNodeFrame(batches));
      expect(decoded.ok).toBe(true);
      if (!decoded.ok) return;
      expect(perReplicaPair(decoded.batches)).toEqual(perReplicaPair(batches));
      const sent = batches.flatMap((batch) => batch.messages.filter((m) => isCoalescible(batch, m)));
      expect(decoded.coalescedHeartbeats).toBe(sent.length);
    }));
  });

  it("coalesce and fan out as inverse functions on heartbeat-only batches", () => {
    fc.assert(fc.property(anyFrame, (batches) => {
      const { heartbeats } = coalesceHeartbeats(batches);
      const fanned = fanOutHeartbeats(heartbeats);
      expect(coalesceHeartbeats(fanned)).toEqual({ batches: [], heartbeats });
    }));
  });

  it("leave in its batch a heartbeat that could not come back identical", () => {
    const batch = { group: "g", from: 1, to: 2, messages: [message("heartbeat", 1, 2, { lease: true }), message("heartbeat", 3, 2), message("heartbeat", 1, 2, { term: 4 })] };
    const { batches, heartbeats } = coalesceHeartbeats([batch]);
    expect(batches).toEqual([{ ...batch, messages: batch.messages.slice(0, 2) }]);
    expect(heartbeats).toEqual([{ group: "g", message: batch.messages[2] }]);
  });

  it("carry 32 groups' heartbeats in one record, in fewer bytes than 32 batches", () => {
    const batches = Array.from({ length: 32 }, (_, group) => ({
      group: `tenant-${group}`, from: 1, to: 2,
      messages: [message("heartbeat", 1, 2, { term: 3, commit: 40 + group, index: 1_000 + group, context: group % 4 === 0 ? `read-${group}` : "" })],
    }));
    const frame = encodeNodeFrame(batches);
    const decoded = decodeNodeFrame(frame);
    expect(decoded).toEqual({ ok: true, batches, coalescedHeartbeats: 32 });
    const separately = batches.reduce((sum, batch) => sum + encodeBatch(batch).length + 1, 0);
    expect(frame.length).toBeLessThan(0.8 * separately);
  });

  it("refuse a frame whose batch holds a heartbeat that belongs in the record", () => {
    // Hand-built: one batch with a plain heartbeat, then an empty heartbeat record.
    const batch = encodeBatch({ group: "g", from: 1, to: 2, messages: [message("heartbeat", 1, 2)] });
    const frame = Uint8Array.from([0xec, 2, 1, batch.length, ...batch, 0]);
    expect(decodeNodeFrame(frame)).toEqual({ ok: false, error: "batch 0 holds a heartbeat outside the coalesced record" });
  });
});
