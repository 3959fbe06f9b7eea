/**
 * Keys and their order. Keys are well-formed UTF-16 strings compared as if encoded in UTF-8 and
 * compared byte by byte, which is code point order: the order SQLite gives TEXT under its BINARY
 * collation, so the memory store and a SQLite store scan in the same order.
 */
import { keyBytesMax } from "../shared/limits.ts";

/** Orders two keys by their UTF-8 bytes; negative, zero or positive like `Array.prototype.sort` wants. */
export function compareKeys(left: string, right: string): number {
  if (left === right) return 0;
  const length = Math.min(left.length, right.length);
  for (let position = 0; position < length; position++) {
    const leftUnit = left.charCodeAt(position);
    const rightUnit = right.charCodeAt(position);
    if (leftUnit !== rightUnit) return codePointOrderOf(leftUnit) - codePointOrderOf(rightUnit);
  }
  return left.length - right.length;
}

/**
 * Maps a UTF-16 code unit so that comparing mapped units at the first difference gives code point
 * order: surrogates (which start supplementary code points) move above U+E000..U+FFFF.
 */
function codePointOrderOf(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}

/** The smallest key that sorts after `key`: every key greater than `key` is at least this one. */
export function keySuccessor(key: string): string {
  return key + "\u0000";
}

/** The larger of two keys, treating undefined as "no bound". */
export function laterKey(left: string | undefined, right: string | undefined): string | undefined {
  if (left === undefined) return right;
  if (right === undefined) return left;
  return compareKeys(left, right) >= 0 ? left : right;
}

/** Length of `text` once encoded as UTF-8, in bytes; undefined when `text` holds a lone surrogate. */
export function utf8BytesOf(text: string): number | undefined {
  let bytes = 0;
  for (let position = 0; position < text.length; position++) {
    const unit = text.charCodeAt(position);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit < 0xd800 || unit >= 0xe000) bytes += 3;
    else if (unit >= 0xdc00) return undefined;
    else {
      const next = text.charCodeAt(position + 1);
      if (!(next >= 0xdc00 && next < 0xe000)) return undefined;
      bytes += 4;
      position += 1;
    }
  }
  return bytes;
}

/** Why `key` is not a valid key (empty, not well-formed UTF-16, or over keyBytesMax), or undefined when it is. */
export function keyProblemOf(key: unknown): string | undefined {
  if (typeof key !== "string") return "key must be a string";
  if (key.length === 0) return "key must not be empty";
  const bytes = utf8BytesOf(key);
  if (bytes === undefined) return "key must be well-formed UTF-16 (no lone surrogates)";
  if (bytes > keyBytesMax) return `key is ${bytes} bytes of UTF-8, more than ${keyBytesMax}`;
  return undefined;
}
