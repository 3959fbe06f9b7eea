/**
 * Spans of routing positions and the mapping from keys to positions. A keyspace in "range" mode
 * routes a key by the key itself; in "hash" mode by its hash slot, written as a fixed-width
 * position so that string order is slot order. Spans are half-open, [start, end).
 * (Provisional minimal version; the full module with hash slots lands from the keyspace work.)
 */
import { compareKeys, keyProblemOf, laterKey } from "./key-order.ts";

/** How a keyspace maps keys to positions: "range" = the key itself; "hash" = the key's hash slot. */
export type KeyspaceMode = "range" | "hash";

/** A half-open span [start, end) of routing positions; `end` undefined = unbounded. start "" = from the beginning. */
export interface Span {
  readonly start: string;
  readonly end?: string;
}

/** Whether `position` lies in `span`. */
export function spanContains(span: Span, position: string): boolean {
  return compareKeys(position, span.start) >= 0 && (span.end === undefined || compareKeys(position, span.end) < 0);
}

/** Whether two spans share a position. */
export function spansOverlap(a: Span, b: Span): boolean {
  return spanIntersection(a, b) !== undefined;
}

/** The overlap of two spans, or undefined when they are disjoint (empty spans never returned). */
export function spanIntersection(a: Span, b: Span): Span | undefined {
  const start = compareKeys(a.start, b.start) >= 0 ? a.start : b.start;
  const end = a.end === undefined ? b.end : b.end === undefined ? a.end : compareKeys(a.end, b.end) <= 0 ? a.end : b.end;
  if (end !== undefined && compareKeys(start, end) >= 0) return undefined;
  return end === undefined ? { start } : { start, end };
}

/** a minus b: 0, 1 or 2 spans, in order. */
export function spanSubtract(a: Span, b: Span): Span[] {
  const overlap = spanIntersection(a, b);
  if (overlap === undefined) return [a];
  const pieces: Span[] = [];
  if (compareKeys(a.start, overlap.start) < 0) pieces.push({ start: a.start, end: overlap.start });
  if (overlap.end !== undefined && (a.end === undefined || compareKeys(overlap.end, a.end) < 0)) {
    pieces.push(a.end === undefined ? { start: overlap.end } : { start: overlap.end, end: a.end });
  }
  return pieces;
}

/** Sorted, non-overlapping, adjacent ones coalesced. */
export function normalizeSpans(spans: readonly Span[]): Span[] {
  const sorted = spans.filter((span) => span.end === undefined || compareKeys(span.start, span.end) < 0).sort((a, b) => compareKeys(a.start, b.start));
  const result: Span[] = [];
  for (const span of sorted) {
    const last = result[result.length - 1];
    if (last !== undefined && (last.end === undefined || compareKeys(span.start, last.end) <= 0)) {
      const end = last.end === undefined || span.end === undefined ? undefined : compareKeys(last.end, span.end) >= 0 ? last.end : span.end;
      result[result.length - 1] = end === undefined ? { start: last.start } : { start: last.start, end };
    } else {
      result.push(span);
    }
  }
  return result;
}

/** Whether `outer` spans (normalized) fully cover `inner`. */
export function spansCover(outer: readonly Span[], inner: Span): boolean {
  let rest: Span[] = [inner];
  for (const span of outer) rest = rest.flatMap((piece) => spanSubtract(piece, span));
  return rest.length === 0;
}

/** The routing position of `key` in a keyspace of `mode`. */
export function positionOf(mode: KeyspaceMode, key: string): string {
  if (mode === "range") return key;
  throw new Error("hash mode is not available in the provisional span module");
}

/** Why `raw` (from the network or the log) is not a well-formed span, or undefined when it is. */
export function spanProblemOf(raw: unknown): string | undefined {
  if (typeof raw !== "object" || raw === null) return "span must be an object";
  const span = raw as { start?: unknown; end?: unknown };
  if (typeof span.start !== "string" || (span.start !== "" && keyProblemOf(span.start) !== undefined)) return "span start must be a key or empty";
  if (span.end === undefined) return undefined;
  if (typeof span.end !== "string" || keyProblemOf(span.end) !== undefined) return "span end must be a key";
  return compareKeys(span.start, span.end) < 0 ? undefined : "span start must sort before its end";
}

/** The smallest key greater than every key that starts with `prefix` (by code point, skipping surrogates; undefined when none exists, i.e. unbounded). */
export function prefixSuccessor(prefix: string): string | undefined {
  const points = Array.from(prefix, (character) => character.codePointAt(0)!);
  while (points.length > 0) {
    const last = points.pop()!;
    if (last === 0x10ffff) continue;
    points.push(last === 0xd7ff ? 0xe000 : last + 1);
    return String.fromCodePoint(...points);
  }
  return undefined;
}

/** [prefix, prefixSuccessor(prefix)). */
export function prefixSpan(prefix: string): Span {
  const end = prefixSuccessor(prefix);
  return end === undefined ? { start: prefix } : { start: prefix, end };
}

/** The span of keys a scan reads: its start, cursor, end and prefix intersected (range mode). */
export function scanSpanOf(range: { readonly start?: string; readonly end?: string; readonly prefix?: string; readonly cursor?: string }): Span {
  const start = laterKey(laterKey(range.start, range.prefix), range.cursor) ?? "";
  const prefixEnd = range.prefix === undefined ? undefined : prefixSuccessor(range.prefix);
  const end = range.end === undefined ? prefixEnd : prefixEnd === undefined || compareKeys(range.end, prefixEnd) <= 0 ? range.end : prefixEnd;
  return end === undefined ? { start } : { start, end };
}
