/**
 * Proves the varints of the byte framing (used by the Raft wire format) round-trip every
 * non-negative safe integer in the length varintLengthOf announces, and that the reader refuses
 * every other encoding (non-minimal, too long, past 2^53 - 1, truncated) so each value has one.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteReader, ByteWriter, varintBytesMax, varintLengthOf } from "../../src/kv/binary.ts";
import { AssertionError } from "../../src/shared/assert.ts";

function encoded(value: number): Uint8Array {
  const writer = new ByteWriter(varintLengthOf(value));
  writer.writeVarint(value);
  return writer.finish();
}

function read(bytes: number[]): { value: number | undefined; remaining: number } {
  const reader = new ByteReader(Uint8Array.from(bytes));
  const value = reader.readVarint();
  return { value, remaining: reader.remaining };
}

describe("varints", () => {
  it("round-trip every safe integer in ceil(bits / 7) bytes", () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat(1_000), fc.maxSafeNat()), (value) => {
        const bytes = encoded(value);
        expect(bytes.length).toBe(Math.max(1, Math.ceil(value.toString(2).length / 7)));
        expect(read([...bytes, 0xaa])).toEqual({ value, remaining: 1 });
      }),
      { numRuns: 2_000 },
    );
  });

  it("switch length exactly at each power of 2^7, and stop at the largest safe integer", () => {
    for (let groups = 1; groups < varintBytesMax; groups++) {
      expect(encoded(2 ** (7 * groups) - 1).length).toBe(groups);
      expect(encoded(2 ** (7 * groups)).length).toBe(groups + 1);
    }
    expect([...encoded(Number.MAX_SAFE_INTEGER)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect([...encoded(300)]).toEqual([0xac, 0x02]);
  });

  it("refuse non-minimal, overlong, unsafe and truncated encodings", () => {
    expect(read([0x80, 0x00]).value).toBeUndefined();
    expect(read([0xac, 0x82, 0x00]).value).toBeUndefined();
    expect(read([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x10]).value).toBeUndefined(); // 2^53
    expect(read([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]).value).toBeUndefined();
    expect(read([0x80]).value).toBeUndefined();
    expect(read([]).value).toBeUndefined();
    expect(read([0x00]).value).toBe(0);
  });

  it("are written only for non-negative safe integers", () => {
    expect(() => varintLengthOf(-1)).toThrow(AssertionError);
    expect(() => varintLengthOf(2 ** 53)).toThrow(AssertionError);
    expect(() => new ByteWriter(8).writeVarint(1.5)).toThrow(AssertionError);
  });
});
