/**
 * Spans of the keyspace and the positions keys route by. A keyspace is either range-routed (a key's
 * position is the key itself) or hash-routed (a key's position is its hash slot written as
 * fixed-width hex); either way ownership is a set of half-open spans [start, end) of positions,
 * ordered by compareKeys, as in TiKV regions and CockroachDB ranges. This lives in src/kv because a
 * group's state machine checks its own ownership; the range table (src/multiraft/keyspace.ts)
 * builds on it.
 */
import { assert } from "../shared/assert.ts";
import { hashSlotCount, keyBytesMax } from "../shared/limits.ts";
import { compareKeys, laterKey, utf8BytesOf } from "./key-order.ts";

/** How a keyspace maps keys to positions: "range" = the key itself; "hash" = the key's hash slot. */
export type KeyspaceMode = "range" | "hash";

/** A half-open span [start, end) of routing positions; `end` undefined = unbounded. start "" = from the beginning. */
export interface Span {
  readonly start: string;
  readonly end?: string;
}

/** The span [start, end), without an `end` property when it is unbounded. */
export function spanOf(start: string, end: string | undefined): Span {
  return end === undefined ? { start } : { start, end };
}

/** Whether `span` holds no position (start at or past a present end). */
export function spanIsEmpty(span: Span): boolean {
  return span.end !== undefined && compareKeys(span.start, span.end) >= 0;
}

/** Whether `position` lies in `span`. */
export function spanContains(span: Span, position: string): boolean {
  return compareKeys(position, span.start) >= 0 && (span.end === undefined || compareKeys(position, span.end) < 0);
}

/** Whether the two spans share at least one position. */
export function spansOverlap(a: Span, b: Span): boolean {
  return spanIntersection(a, b) !== undefined;
}

/** The overlap of two spans, or undefined when they are disjoint (empty spans never returned). */
export function spanIntersection(a: Span, b: Span): Span | undefined {
  const start = compareKeys(a.start, b.start) >= 0 ? a.start : b.start;
  const end = earlierEnd(a.end, b.end);
  const overlap = spanOf(start, end);
  return spanIsEmpty(overlap) ? undefined : overlap;
}

/** a minus b: 0, 1 or 2 spans, in order. */
export function spanSubtract(a: Span, b: Span): Span[] {
  if (spanIsEmpty(a)) return [];
  if (!spansOverlap(a, b)) return [a];
  const pieces: Span[] = [];
  if (compareKeys(a.start, b.start) < 0) pieces.push(spanOf(a.start, b.start));
  if (b.end !== undefined && (a.end === undefined || compareKeys(b.end, a.end) < 0)) pieces.push(spanOf(b.end, a.end));
  return pieces;
}

/** Sorted, non-overlapping, adjacent ones coalesced. */
export function normalizeSpans(spans: readonly Span[]): Span[] {
  const sorted = spans.filter((span) => !spanIsEmpty(span)).sort((left, right) => compareKeys(left.start, right.start));
  const merged: Span[] = [];
  for (const span of sorted) {
    const last = merged.at(-1);
    if (last !== undefined && (last.end === undefined || compareKeys(span.start, last.end) <= 0)) {
      merged[merged.length - 1] = spanOf(last.start, laterEnd(last.end, span.end));
    } else {
      merged.push(span);
    }
  }
  return merged;
}

/** Whether `outer` spans (normalized) fully cover `inner`. */
export function spansCover(outer: readonly Span[], inner: Span): boolean {
  if (spanIsEmpty(inner)) return true;
  // Normalized spans leave gaps between each other, so one of them must hold all of `inner`.
  return normalizeSpans(outer).some(
    (span) => spanContains(span, inner.start) && (span.end === undefined || (inner.end !== undefined && compareKeys(inner.end, span.end) <= 0)),
  );
}

/**
 * The smallest key greater than every key that starts with `prefix` (by code point, skipping
 * surrogates; undefined when none exists, i.e. unbounded): the last code point below U+10FFFF is
 * incremented and what follows it dropped. `prefix` must be well-formed UTF-16.
 */
export function prefixSuccessor(prefix: string): string | undefined {
  assert(utf8BytesOf(prefix) !== undefined, "a prefix is well-formed UTF-16");
  const codePoints = Array.from(prefix, (character) => character.codePointAt(0) as number);
  while (codePoints.length > 0) {
    const last = codePoints.pop() as number;
    if (last === 0x10ffff) continue;
    const next = last === 0xd7ff ? 0xe000 : last + 1;
    return String.fromCodePoint(...codePoints, next);
  }
  return undefined;
}

/** [prefix, prefixSuccessor(prefix)): every key that starts with `prefix`. */
export function prefixSpan(prefix: string): Span {
  return spanOf(prefix, prefixSuccessor(prefix));
}

/** Hex digits of a slot position: enough for hashSlotCount itself, the end of the last slot (4 for 4096). */
const slotPositionDigits = hashSlotCount.toString(16).length;

/**
 * The slot of a key: FNV-1a over its UTF-8 bytes, then murmur3's fmix32 finaliser so that the low
 * bits are well mixed, mod hashSlotCount. Stable forever: it decides where data lives. A lone
 * surrogate (never in a valid key) is hashed as its three-byte WTF-8 form so the function is total.
 */
export function hashSlot(key: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index++) {
    let codePoint = key.charCodeAt(index);
    const low = key.charCodeAt(index + 1);
    if (codePoint >= 0xd800 && codePoint < 0xdc00 && low >= 0xdc00 && low < 0xe000) {
      codePoint = 0x10000 + ((codePoint - 0xd800) << 10) + (low - 0xdc00);
      index += 1;
    }
    if (codePoint < 0x80) hash = fnvStep(hash, codePoint);
    else if (codePoint < 0x800) {
      hash = fnvStep(fnvStep(hash, 0xc0 | (codePoint >> 6)), 0x80 | (codePoint & 0x3f));
    } else if (codePoint < 0x10000) {
      hash = fnvStep(fnvStep(fnvStep(hash, 0xe0 | (codePoint >> 12)), 0x80 | ((codePoint >> 6) & 0x3f)), 0x80 | (codePoint & 0x3f));
    } else {
      hash = fnvStep(fnvStep(hash, 0xf0 | (codePoint >> 18)), 0x80 | ((codePoint >> 12) & 0x3f));
      hash = fnvStep(fnvStep(hash, 0x80 | ((codePoint >> 6) & 0x3f)), 0x80 | (codePoint & 0x3f));
    }
  }
  return finalMix32(hash) % hashSlotCount;
}

/** One FNV-1a step: xor the byte in, multiply by the 32-bit FNV prime. */
function fnvStep(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, 0x01000193);
}

/** murmur3's fmix32: every input bit affects every output bit; returns an unsigned 32-bit integer. */
function finalMix32(value: number): number {
  let hash = value >>> 0;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** The position of a slot: fixed-width lowercase hex (4 digits for 4096 slots) so string order = numeric order. */
export function slotPosition(slot: number): string {
  assert(Number.isSafeInteger(slot) && slot >= 0 && slot <= hashSlotCount, `slot ${slot} is within 0..${hashSlotCount}`);
  return slot.toString(16).padStart(slotPositionDigits, "0");
}

/** The smallest slot whose position is at or after `position` (hashSlotCount when none is). */
export function slotAtOrAfter(position: string): number {
  let low = 0;
  let high = hashSlotCount;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareKeys(slotPosition(middle), position) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The slots [first, end) whose positions lie in `span`. */
export function slotsIn(span: Span): { readonly first: number; readonly end: number } {
  const first = slotAtOrAfter(span.start);
  const end = span.end === undefined ? hashSlotCount : slotAtOrAfter(span.end);
  return { first, end: Math.max(first, end) };
}

/** The routing position of `key` in a keyspace of `mode`. */
export function positionOf(mode: KeyspaceMode, key: string): string {
  return mode === "range" ? key : slotPosition(hashSlot(key));
}

/** Why `raw` (a span parsed from JSON) is not a valid span, or undefined when it is. Other fields are ignored. */
export function spanProblemOf(raw: unknown): string | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return "span must be an object with start and optional end";
  const { start, end } = raw as { start?: unknown; end?: unknown };
  const startProblem = boundProblemOf(start, "start");
  if (startProblem !== undefined) return startProblem;
  if (end === undefined) return undefined;
  const endProblem = boundProblemOf(end, "end");
  if (endProblem !== undefined) return endProblem;
  if (compareKeys(start as string, end as string) >= 0) return "span start must sort before its end";
  return undefined;
}

function boundProblemOf(bound: unknown, name: string): string | undefined {
  if (typeof bound !== "string") return `span ${name} must be a string`;
  const bytes = utf8BytesOf(bound);
  if (bytes === undefined) return `span ${name} must be well-formed UTF-16 (no lone surrogates)`;
  if (bytes > keyBytesMax) return `span ${name} is ${bytes} bytes of UTF-8, more than ${keyBytesMax}`;
  return undefined;
}

function earlierEnd(left: string | undefined, right: string | undefined): string | undefined {
  if (left === undefined) return right;
  if (right === undefined) return left;
  return compareKeys(left, right) <= 0 ? left : right;
}

function laterEnd(left: string | undefined, right: string | undefined): string | undefined {
  if (left === undefined || right === undefined) return undefined;
  return compareKeys(left, right) >= 0 ? left : right;
}

/** The span of keys a scan reads: its start, cursor, end and prefix intersected (range mode). */
export function scanSpanOf(range: { readonly start?: string; readonly end?: string; readonly prefix?: string; readonly cursor?: string }): Span {
  const start = laterKey(laterKey(range.start, range.prefix), range.cursor) ?? "";
  const prefixEnd = range.prefix === undefined ? undefined : prefixSuccessor(range.prefix);
  return spanOf(start, earlierEnd(range.end, prefixEnd));
}
