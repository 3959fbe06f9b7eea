/**
 * Proves the binary Raft wire format round-trips every valid batch exactly, reads no input two
 * ways (whatever decodes re-encodes to the same bytes), refuses truncated, extended and malformed
 * input as a value without ever throwing, and is smaller than the JSON + base64 format it
 * replaced: property tests over random batches and random damage, fixed cases for each rule.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBatch, encodeBatch, wireFormatVersion, wireMagic, type MessageBatch } from "../../src/multiraft/wire.ts";
import type { ConfState, Entry, Message, MessageType, SnapshotChunk } from "../../src/raft/types.ts";
import { AssertionError } from "../../src/shared/assert.ts";
import { encodeBase64 } from "../../src/shared/base64.ts";

/** Byte arrays compare with one loop: the generic deep equality takes seconds on the large entries here. */
expect.addEqualityTesters([
  (left: unknown, right: unknown) => {
    if (!(left instanceof Uint8Array) || !(right instanceof Uint8Array)) return undefined;
    if (left.length !== right.length) return false;
    for (let position = 0; position < left.length; position++) if (left[position] !== right[position]) return false;
    return true;
  },
]);

const messageTypes: MessageType[] = [
  "app", "appResp", "vote", "voteResp", "preVote", "preVoteResp", "heartbeat", "heartbeatResp",
  "snap", "snapResp", "prop", "readIndex", "readIndexResp", "transferLeader", "timeoutNow", "wake",
];

/** Small numbers mostly, with every varint length and the largest safe integer now and then. */
const anyCount = fc.oneof(
  { weight: 4, arbitrary: fc.nat(300) },
  { weight: 1, arbitrary: fc.constantFrom(127, 128, 16_383, 16_384, 2 ** 31, 2 ** 32, Number.MAX_SAFE_INTEGER) },
  { weight: 1, arbitrary: fc.maxSafeNat() },
);
const anyId = anyCount.filter((value) => value > 0);
/** Any well-formed text from all of Unicode (surrogate pairs, no lone surrogates). */
const anyText = fc.string({ unit: "binary", maxLength: 24 });
/** `length` bytes of a pattern (generating them one by one would be slow). */
function patternOf(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, position) => (position * 31 + seed) & 0xff);
}

/** Entry and chunk data: small, empty, or now and then past 16 KiB (a 3-byte length). */
const anyData = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 16_384, max: 20_000 }), fc.nat(255)).map(([length, seed]) => patternOf(length, seed)) },
);
const smallData = fc.uint8Array({ maxLength: 16 });

const anyConf: fc.Arbitrary<ConfState> = fc.record({
  voters: fc.array(anyId, { maxLength: 5 }),
  votersOutgoing: fc.array(anyId, { maxLength: 5 }),
  learners: fc.array(anyId, { maxLength: 3 }),
  learnersNext: fc.array(anyId, { maxLength: 3 }),
  autoLeave: fc.boolean(),
});

/** Any batch whose entries and chunks carry `data`: every message type, field value and flag. */
function batchOf(data: fc.Arbitrary<Uint8Array>): fc.Arbitrary<MessageBatch> {
  const entry: fc.Arbitrary<Entry> = fc.record({
    term: anyCount,
    index: anyCount,
    type: fc.constantFrom<Entry["type"]>("normal", "confChange"),
    data,
  });
  const chunk: fc.Arbitrary<SnapshotChunk> = fc.record({
    meta: fc.record({ index: anyCount, term: anyCount, conf: anyConf }),
    offset: anyCount,
    totalBytes: anyCount,
    data,
  });
  const message: fc.Arbitrary<Message> = fc.record({
    type: fc.constantFrom(...messageTypes),
    from: anyCount,
    to: anyCount,
    term: anyCount,
    logTerm: anyCount,
    index: anyCount,
    entries: fc.array(entry, { maxLength: 4 }),
    commit: anyCount,
    reject: fc.boolean(),
    rejectHint: anyCount,
    context: fc.oneof(fc.constant(""), anyText),
    snapshot: fc.option(chunk, { nil: null }),
    quiesce: fc.boolean(),
    transfer: fc.boolean(),
    lease: fc.boolean(),
  });
  return fc.record({ group: anyText, from: anyId, to: anyId, messages: fc.array(message, { maxLength: 6 }) });
}
const anyBatch = batchOf(anyData);
/** Batches small enough to decode every prefix of. */
const smallBatch = batchOf(smallData);

/** A message with zero values except `fields`, as the engine builds them. */
function messageOf(type: MessageType, fields: Partial<Message> = {}): Message {
  return {
    type, from: 1, to: 2, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0,
    context: "", snapshot: null, quiesce: false, transfer: false, lease: false, ...fields,
  };
}

/** A varint as the format defines it, written independently of the codec. */
function varint(value: number): number[] {
  const out: number[] = [];
  for (; value >= 128; value = Math.floor(value / 128)) out.push((value % 128) | 128);
  out.push(value);
  return out;
}

/** The bytes of a batch for group "g" from 1 to 2, followed by `messages` given as raw bytes. */
function rawBatch(count: number, ...messages: number[][]): Uint8Array {
  return Uint8Array.from([wireMagic, wireFormatVersion, 1, 0x67, 1, 2, ...varint(count), ...messages.flat()]);
}

/** The raw bytes of a message of type code `code` with zero numbers, `context` bytes and `tail` after them. */
function rawMessage(code: number, context: number[] = [], tail: number[] = [0]): number[] {
  return [code, 0, 1, 2, 0, 0, 0, 0, 0, ...varint(context.length), ...context, ...tail];
}

function errorOf(bytes: Uint8Array): string {
  const decoded = decodeBatch(bytes);
  expect(decoded.ok).toBe(false);
  return decoded.ok ? "" : decoded.error;
}

/** Decoding `bytes` neither throws nor reads them differently from how they would be written. */
function expectRefusedOrExact(bytes: Uint8Array): void {
  const decoded = decodeBatch(bytes);
  if (decoded.ok) expect(encodeBatch(decoded.batch)).toEqual(bytes);
  else expect(typeof decoded.error).toBe("string");
}

describe("wire round trip", () => {
  it("decode(encode(batch)) equals the batch, for any valid batch", () => {
    fc.assert(
      fc.property(anyBatch, (batch) => {
        expect(decodeBatch(encodeBatch(batch))).toEqual({ ok: true, batch });
      }),
      { numRuns: 1_000 },
    );
  });

  it("covers every message type, an empty entry and a large one", () => {
    const entries: Entry[] = [
      { term: 1, index: 2, type: "normal", data: new Uint8Array(0) },
      { term: 1, index: 3, type: "confChange", data: patternOf(300_000, 0) },
    ];
    const batch = { group: "tenant-\u00e9\u{1f600}", from: 3, to: 9, messages: messageTypes.map((type) => messageOf(type, { entries, context: "1:\u{10ffff}" })) };
    expect(decodeBatch(encodeBatch(batch))).toEqual({ ok: true, batch });
  });

  it("decoded entry and chunk data are copies: reusing the request buffer changes nothing", () => {
    const data = Uint8Array.of(1, 2, 3);
    const conf = { voters: [1], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
    const snapshot = { meta: { index: 1, term: 1, conf }, offset: 0, totalBytes: 3, data };
    const bytes = encodeBatch({ group: "g", from: 1, to: 2, messages: [messageOf("snap", { snapshot, entries: [{ term: 1, index: 1, type: "normal", data }] })] });
    const decoded = decodeBatch(bytes);
    bytes.fill(0xee);
    const message = decoded.ok ? decoded.batch.messages[0] : undefined;
    expect(message?.entries[0]?.data).toEqual(data);
    expect(message?.snapshot?.data).toEqual(data);
  });

  it("the encoder asserts what the decoder would refuse", () => {
    expect(() => encodeBatch({ group: "g", from: 0, to: 2, messages: [] })).toThrow(AssertionError);
    expect(() => encodeBatch({ group: "g\ud800", from: 1, to: 2, messages: [] })).toThrow(AssertionError);
    expect(() => encodeBatch({ group: "g", from: 1, to: 2, messages: [messageOf("app", { term: -1 })] })).toThrow(AssertionError);
    expect(() => encodeBatch({ group: "g", from: 1, to: 2, messages: [messageOf("app", { commit: 0.5 })] })).toThrow(AssertionError);
  });
});

describe("wire decoding of damaged input", () => {
  it("never throws on arbitrary bytes, alone or after a valid header or batch prologue", () => {
    // Random bytes rarely get past the group field; the prologue (group "g", 1 to 2, one message) puts them in a message.
    const prefixes = [[], [wireMagic, wireFormatVersion], [wireMagic, wireFormatVersion, 1, 0x67, 1, 2, 1]];
    fc.assert(
      fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 200, size: "max" }), (prefix, tail) => {
        expectRefusedOrExact(Uint8Array.from([...prefix, ...tail]));
      }),
      { numRuns: 10_000 },
    );
  });

  it("refuses every truncation of a valid encoding", () => {
    fc.assert(
      fc.property(smallBatch, (batch) => {
        const bytes = encodeBatch(batch);
        for (let length = 0; length < bytes.length; length++) expect(decodeBatch(bytes.subarray(0, length)).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses trailing bytes after a valid encoding", () => {
    fc.assert(
      fc.property(anyBatch, fc.uint8Array({ minLength: 1, maxLength: 16 }), (batch, extra) => {
        const bytes = encodeBatch(batch);
        const extended = new Uint8Array(bytes.length + extra.length);
        extended.set(bytes);
        extended.set(extra, bytes.length);
        expect(errorOf(extended)).toBe(`${extra.length} bytes follow the last message`);
      }),
    );
  });

  it("reads a valid encoding with random bytes changed either as exactly those bytes or not at all", () => {
    const changes = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(anyBatch, changes, (batch, changed) => {
        const bytes = encodeBatch(batch);
        for (const [position, value] of changed) bytes[position % bytes.length] = value;
        expectRefusedOrExact(bytes);
      }),
      { numRuns: 3_000 },
    );
  });
});

describe("wire refusals", () => {
  const valid = (): Uint8Array => encodeBatch({ group: "g", from: 1, to: 2, messages: [messageOf("heartbeat")] });

  it("accepts the hand-built bytes these cases start from", () => {
    expect(rawBatch(1, rawMessage(6))).toEqual(valid());
    expect(decodeBatch(valid()).ok).toBe(true);
  });

  it("refuses another format version, naming both", () => {
    const bytes = valid();
    bytes[1] = wireFormatVersion + 1;
    expect(errorOf(bytes)).toBe(`Raft wire format version ${wireFormatVersion + 1}; this replica speaks version ${wireFormatVersion}`);
  });

  it("refuses a JSON body from the format before this one, saying so", () => {
    expect(errorOf(new TextEncoder().encode('{"group":"g","from":1,"to":2,"messages":[]}'))).toMatch(/JSON wire format/);
    expect(errorOf(new Uint8Array(0))).toMatch(/first byte is missing/);
  });

  it("refuses an unknown message type", () => {
    expect(errorOf(rawBatch(1, rawMessage(messageTypes.length)))).toBe(`message 0: unknown message type ${messageTypes.length}`);
    expect(errorOf(rawBatch(1, rawMessage(255)))).toBe("message 0: unknown message type 255");
  });

  it("refuses a zero or missing batch from or to", () => {
    const fromZero = valid();
    fromZero[4] = 0;
    const toZero = valid();
    toZero[5] = 0;
    expect(errorOf(fromZero)).toMatch(/from and to must be positive/);
    expect(errorOf(toZero)).toMatch(/from and to must be positive/);
  });

  it("refuses a length or count larger than the bytes that remain, without allocating it", () => {
    const huge = varint(Number.MAX_SAFE_INTEGER);
    expect(errorOf(Uint8Array.from([wireMagic, wireFormatVersion, ...huge]))).toBe("group is truncated or not UTF-8");
    expect(errorOf(rawBatch(Number.MAX_SAFE_INTEGER, rawMessage(6)))).toBe("message count is malformed or larger than the body");
    expect(errorOf(rawBatch(1, rawMessage(6, [], varint(2 ** 40))))).toMatch(/entry count is malformed or larger than the body/);
    const entry = [1, 1, 0, ...varint(2 ** 32), 7, 7];
    expect(errorOf(rawBatch(1, rawMessage(0, [], [1, ...entry])))).toBe("message 0: entry 0: data is truncated");
    const context = [...varint(1_000_000), 0x61];
    expect(errorOf(rawBatch(1, [6, 0, 1, 2, 0, 0, 0, 0, 0, ...context, 0]))).toBe("message 0: context is truncated or not UTF-8");
  });

  it("refuses a context that is not UTF-8 (bad continuation, overlong, surrogate, truncated sequence)", () => {
    for (const context of [[0xc3, 0x28], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98], [0xff]]) {
      expect(errorOf(rawBatch(1, rawMessage(6, context)))).toBe("message 0: context is truncated or not UTF-8");
    }
    expect(decodeBatch(rawBatch(1, rawMessage(6, [0xf0, 0x9f, 0x98, 0x80])))).toMatchObject({ ok: true, batch: { messages: [{ context: "\u{1f600}" }] } });
  });

  it("refuses a varint that is not canonical or not a safe integer", () => {
    const overlongZero = [6, 0, 1, 2, 0x80, 0x00, 0, 0, 0, 0, 0, 0];
    expect(errorOf(rawBatch(1, overlongZero))).toMatch(/not a canonical varint/);
    const twoTo53 = [6, 0, 1, 2, ...varint(2 ** 53), 0, 0, 0, 0, 0, 0];
    expect(errorOf(rawBatch(1, twoTo53))).toMatch(/not a safe integer/);
    const nineBytes = [6, 0, 1, 2, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0, 0, 0, 0, 0, 0];
    expect(errorOf(rawBatch(1, nineBytes))).toMatch(/not a canonical varint/);
  });

  it("refuses unknown flag bits, an unknown entry kind and a zero id in a conf state", () => {
    expect(errorOf(rawBatch(1, [6, 32, ...rawMessage(6).slice(2)]))).toBe("message 0: unknown flag bits 32");
    expect(errorOf(rawBatch(1, rawMessage(0, [], [1, 1, 1, 2, 0])))).toBe("message 0: entry 0: unknown entry kind 2");
    const conf = { voters: [1], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: true };
    const snapshot = { meta: { index: 1, term: 1, conf }, offset: 0, totalBytes: 0, data: new Uint8Array(0) };
    const bytes = encodeBatch({ group: "g", from: 1, to: 2, messages: [messageOf("snap", { snapshot })] });
    const voterAt = bytes.length - 8; // then three empty id lists, conf flags, offset, totalBytes, data length
    expect([bytes[voterAt - 1], bytes[voterAt]]).toEqual([1, 1]);
    bytes[voterAt] = 0;
    expect(errorOf(bytes)).toMatch(/holds a zero id/);
    bytes[voterAt] = 1;
    bytes[voterAt + 4] = 3;
    expect(errorOf(bytes)).toMatch(/flags are truncated or unknown/);
  });

  it("refuses what is not a Uint8Array", () => {
    expect(errorOf("not bytes" as unknown as Uint8Array)).toBe("batch must be a Uint8Array");
  });
});

describe("wire size", () => {
  /** The JSON + base64 encoding this format replaced (git show d7257b2:src/multiraft/wire.ts), for one app message. */
  function jsonSizeOf(batch: MessageBatch): number {
    const messages = batch.messages.map((m) => ({
      type: m.type, from: m.from, to: m.to, term: m.term, logTerm: m.logTerm, index: m.index, commit: m.commit,
      entries: m.entries.map((e) => [e.term, e.index, e.type === "normal" ? 0 : 1, encodeBase64(e.data)]),
    }));
    return new TextEncoder().encode(JSON.stringify({ group: batch.group, from: batch.from, to: batch.to, messages })).length;
  }

  it("carries a 100-byte entry in well under the JSON size, with a fixed overhead", () => {
    const entry: Entry = { term: 7, index: 1_234_567, type: "normal", data: new Uint8Array(100).fill(0x41) };
    const append = messageOf("app", { term: 7, logTerm: 7, index: 1_234_566, commit: 1_234_560, entries: [entry] });
    const batch = { group: "default", from: 1, to: 2, messages: [append] };
    const binary = encodeBatch(batch).length;
    // Header 2 + group 8 + from, to, count 3; message type, flags 2 + seven numbers 1+1+1+1+3+3+1
    // + context 1 + entry count 1; entry term 1 + index 3 + kind 1 + length 1 + data 100: 134.
    expect(binary).toBe(134);
    expect(jsonSizeOf(batch)).toBeGreaterThan(260);
    expect(binary).toBeLessThan(jsonSizeOf(batch) / 1.9);
  });
});
