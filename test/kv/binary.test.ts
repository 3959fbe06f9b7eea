/**
 * Proves the varints of the byte framing (used by the Raft wire format) round-trip every
 * non-negative safe integer in the length varintLengthOf announces, and that the reader refuses
 * every other encoding (non-minimal, too long, past 2^53 - 1, truncated) so each value has one.
 * Text is written and read as UTF-8 exactly as TextEncoder and a fatal TextDecoder would, on both
 * sides of the short-ASCII loop (up to 64 bytes) and past it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteReader, ByteWriter, utf8LengthOf, varintBytesMax, varintLengthOf } from "../../src/kv/binary.ts";
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

describe("text", () => {
  const written = (text: string) => {
    const writer = new ByteWriter(utf8LengthOf(text));
    writer.writeText(text, utf8LengthOf(text));
    return writer.finish();
  };
  const readText = (bytes: Uint8Array) => new ByteReader(bytes).readText(bytes.length);

  it("is written as TextEncoder writes it and read back, short or long, ASCII or not", () => {
    const texts = fc.oneof(fc.string({ maxLength: 80, size: "max" }), fc.string({ unit: "binary", maxLength: 80, size: "max" }), fc.string({ unit: "grapheme", maxLength: 30, size: "max" }));
    fc.assert(
      fc.property(texts, (text) => {
        const bytes = written(text);
        expect(bytes).toEqual(new TextEncoder().encode(text));
        expect(readText(bytes)).toBe(text);
      }),
      { numRuns: 2_000 },
    );
    for (const length of [63, 64, 65, 66, 200]) {
      const ascii = "a".repeat(length - 1) + "~";
      expect(readText(written(ascii))).toBe(ascii);
      const accented = "a".repeat(length - 1) + "é";
      expect(readText(written(accented))).toBe(accented);
    }
  });

  it("is refused when it is not UTF-8, inside the short-ASCII loop's length or past it", () => {
    for (const total of [1, 3, 10, 63, 64, 65, 66, 200]) {
      for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0x80]]) {
        if (bad.length > total) continue;
        const bytes = new Uint8Array(total).fill(0x61);
        bytes.set(bad, total - bad.length); // the bad sequence ends the text
        expect(readText(bytes)).toBeUndefined();
        const first = new Uint8Array(total).fill(0x61);
        first.set(bad, 0); // or starts it
        expect(readText(first)).toBeUndefined();
      }
    }
  });

  it("keeps a byte order mark, as the decoder is told to", () => {
    expect(readText(Uint8Array.from([0xef, 0xbb, 0xbf, 0x61]))).toBe("\ufeffa");
  });

  it("asserts the announced length: a non-ASCII text announced as long as its code units is refused", () => {
    const writer = new ByteWriter(2);
    expect(() => writer.writeText("é!", 2)).toThrow(AssertionError);
  });
});
