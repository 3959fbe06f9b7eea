/**
 * Byte framing shared by the command and snapshot encodings and the Raft wire format
 * (multiraft/wire.ts): big-endian integers, varints, length-prefixed UTF-8, a writer that fills
 * one array of a precomputed size, and a reader that reports running past the end (or invalid
 * UTF-8, or a varint that is not the one canonical encoding of a safe integer) as a value instead
 * of throwing.
 */
import { assert } from "../shared/assert.ts";
import { utf8BytesOf } from "./key-order.ts";

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Length of well-formed `text` in UTF-8, in bytes (asserted well-formed: only for text this code built or validated). */
export function utf8LengthOf(text: string): number {
  const length = utf8BytesOf(text);
  assert(length !== undefined, "text to encode is well-formed UTF-16");
  return length;
}

/**
 * Longest text that is decoded or encoded by a loop here when it is all ASCII: keys, client ids and
 * names are short, and for them a call into TextDecoder or TextEncoder costs more than the loop.
 */
const asciiLoopMax = 64;

/** Code units of the short ASCII text being decoded (asciiAt), reused. */
const asciiUnits: number[] = [];

/**
 * The `length` bytes at `start` as text when they are at most asciiLoopMax bytes of ASCII (valid
 * UTF-8 that decodes to the same code units), else undefined.
 */
function asciiAt(bytes: Uint8Array, start: number, length: number): string | undefined {
  if (length > asciiLoopMax) return undefined;
  asciiUnits.length = length;
  let units = 0;
  for (let position = 0; position < length; position++) {
    const byte = bytes[start + position]!;
    units |= byte;
    asciiUnits[position] = byte;
  }
  return units < 0x80 ? String.fromCharCode.apply(null, asciiUnits) : undefined;
}

/** Decodes UTF-8, or undefined when `bytes` is not valid UTF-8. */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Longest varint, in bytes: 8 groups of 7 bits hold every safe integer (53 bits). */
export const varintBytesMax = 8;

/** Bytes of the varint (unsigned LEB128) encoding of the non-negative safe integer `value`. */
export function varintLengthOf(value: number): number {
  assert(Number.isSafeInteger(value) && value >= 0, "varint is a non-negative safe integer");
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  if (value < 0x1000_0000) return 4;
  let length = 4;
  for (let rest = Math.floor(value / 0x1000_0000); rest > 0; rest = Math.floor(rest / 0x80)) length++;
  return length;
}

/** Parses JSON text, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** True when `value` is a JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Writes framed fields into an array of a size computed up front, so encoding allocates once. */
export class ByteWriter {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private offset = 0;

  /** A writer that must be filled with exactly `length` bytes. */
  constructor(length: number) {
    this.bytes = new Uint8Array(length);
    this.view = new DataView(this.bytes.buffer);
  }

  /** One byte. */
  writeUint8(value: number): void {
    this.view.setUint8(this.offset, value);
    this.offset += 1;
  }

  /** A 4-byte big-endian unsigned integer. */
  writeUint32(value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff, "uint32 in range");
    this.view.setUint32(this.offset, value);
    this.offset += 4;
  }

  /** An 8-byte big-endian safe integer (as a float64, which holds every safe integer exactly). */
  writeSafeInteger(value: number): void {
    assert(Number.isSafeInteger(value), "safe integer to encode");
    this.view.setFloat64(this.offset, value);
    this.offset += 8;
  }

  /** A non-negative safe integer as a varint: 7 bits a byte, low bits first, high bit set on all but the last. */
  writeVarint(value: number): void {
    assert(Number.isSafeInteger(value) && value >= 0, "varint is a non-negative safe integer");
    const bytes = this.bytes;
    let rest = value;
    for (; rest >= 0x8000_0000; rest = Math.floor(rest / 0x80)) bytes[this.offset++] = (rest % 0x80) | 0x80;
    for (; rest >= 0x80; rest >>>= 7) bytes[this.offset++] = (rest & 0x7f) | 0x80;
    bytes[this.offset++] = rest;
    assert(this.offset <= bytes.length, "varint fits in the computed length");
  }

  /** Raw bytes. */
  writeBytes(bytes: Uint8Array): void {
    this.bytes.set(bytes, this.offset);
    this.offset += bytes.length;
  }

  /** Well-formed text as UTF-8 framed by its 4-byte length `utf8Length` (see utf8BytesOf). */
  writeFramedText(text: string, utf8Length: number): void {
    this.writeUint32(utf8Length);
    this.writeText(text, utf8Length);
  }

  /** Well-formed text as UTF-8 of `utf8Length` bytes (see utf8BytesOf), without a length. */
  writeText(text: string, utf8Length: number): void {
    if (utf8Length === 0 && text === "") return;
    if (utf8Length === text.length && utf8Length <= asciiLoopMax) {
      // As many bytes as code units: every unit is ASCII (any other takes two bytes or more per unit).
      const bytes = this.bytes;
      assert(this.offset + utf8Length <= bytes.length, "text fits in the computed length");
      let units = 0;
      for (let position = 0; position < utf8Length; position++) {
        const unit = text.charCodeAt(position);
        units |= unit;
        bytes[this.offset + position] = unit;
      }
      assert(units < 0x80, "text has the announced UTF-8 length");
      this.offset += utf8Length;
      return;
    }
    const { read, written } = utf8Encoder.encodeInto(text, this.bytes.subarray(this.offset, this.offset + utf8Length));
    assert(read === text.length && written === utf8Length, "text has the announced UTF-8 length");
    this.offset += utf8Length;
  }

  /** The written bytes; asserts that every byte was written. */
  finish(): Uint8Array {
    assert(this.offset === this.bytes.length, "writer filled exactly the computed length");
    return this.bytes;
  }
}

/** Reads framed fields from the front of a byte array; every read returns undefined past the end. */
export class ByteReader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private offset = 0;

  /** Starts reading at the first byte of `bytes`. */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  /** One byte, or undefined past the end. */
  readUint8(): number | undefined {
    if (this.remaining < 1) return undefined;
    return this.view.getUint8(this.offset++);
  }

  /** A 4-byte big-endian unsigned integer, or undefined past the end. */
  readUint32(): number | undefined {
    if (this.remaining < 4) return undefined;
    const value = this.view.getUint32(this.offset);
    this.offset += 4;
    return value;
  }

  /** An 8-byte safe integer, or undefined past the end or when the bytes are not a safe integer. */
  readSafeInteger(): number | undefined {
    if (this.remaining < 8) return undefined;
    const value = this.view.getFloat64(this.offset);
    this.offset += 8;
    return Number.isSafeInteger(value) ? value : undefined;
  }

  /**
   * A varint, or undefined past the end, or when it is longer than varintBytesMax, not minimal (a
   * last byte of zero after the first) or above the largest safe integer: so each value has one
   * encoding and decoding then re-encoding gives the same bytes.
   */
  readVarint(): number | undefined {
    const bytes = this.bytes;
    const end = Math.min(this.offset + varintBytesMax, bytes.length);
    let value = 0;
    let scale = 1;
    for (let position = this.offset; position < end; position++) {
      const byte = bytes[position]!;
      value += (byte & 0x7f) * scale; // exact: below 2^53 every partial sum is an exact integer
      if (byte < 0x80) {
        if (byte === 0 && position > this.offset) return undefined;
        this.offset = position + 1;
        return Number.isSafeInteger(value) ? value : undefined;
      }
      scale *= 0x80;
    }
    return undefined;
  }

  /** A copy of the next `length` bytes, or undefined past the end. */
  readBytes(length: number): Uint8Array | undefined {
    if (!Number.isSafeInteger(length) || length < 0 || this.remaining < length) return undefined;
    const bytes = this.bytes.slice(this.offset, this.offset + length);
    this.offset += length;
    return bytes;
  }

  /** UTF-8 text framed by a 4-byte length, or undefined past the end or when not valid UTF-8. */
  readFramedText(): string | undefined {
    const length = this.readUint32();
    if (length === undefined) return undefined;
    return this.readText(length);
  }

  /** The next `length` bytes as UTF-8 text, or undefined past the end or when not valid UTF-8. */
  readText(length: number): string | undefined {
    if (!Number.isSafeInteger(length) || length < 0 || this.remaining < length) return undefined;
    if (length === 0) return "";
    const start = this.offset;
    this.offset += length;
    return asciiAt(this.bytes, start, length) ?? decodeUtf8(this.bytes.subarray(start, start + length));
  }
}
