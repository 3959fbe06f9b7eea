/**
 * Proves the span primitives of src/kv/span.ts against naive oracles: membership of half-open spans
 * is constant between consecutive boundaries, so checking every boundary decides set equality
 * exactly; prefixSuccessor bounds exactly the keys with the prefix (including prefixes ending in
 * U+10FFFF, U+D7FF and U+FFFF); hashSlot matches an independent TextEncoder + FNV-1a + fmix32
 * oracle, keeps pinned golden values and spreads 100,000 keys evenly; spanProblemOf rejects bad spans.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareKeys } from "../../src/kv/key-order.ts";
import {
  type Span,
  hashSlot,
  normalizeSpans,
  positionOf,
  prefixSpan,
  prefixSuccessor,
  slotAtOrAfter,
  slotPosition,
  spanContains,
  spanIntersection,
  spanProblemOf,
  spanSubtract,
  spansCover,
  spansOverlap,
} from "../../src/kv/span.ts";
import { hashSlotCount, keyBytesMax } from "../../src/shared/limits.ts";
import { anyKey } from "./arbitraries.ts";

/** Code points where the orders of UTF-16 and UTF-8 differ or a successor must skip or carry. */
const edgeCharacter = fc.constantFrom("", "\u0000", "a", "b", "\u007f", "\u00e9", "\u07ff", "\ud7ff", "\ue000", "\uffff", "\u{10000}", "\u{10ffff}");
/** Short strings of edge characters: positions collide often, so spans touch and nest. */
const position = fc.array(edgeCharacter, { maxLength: 3 }).map((parts) => parts.join(""));
/** A span over those positions, possibly empty, possibly unbounded. */
const span: fc.Arbitrary<Span> = fc
  .tuple(position, fc.option(position, { nil: undefined }))
  .map(([start, end]) => (end === undefined ? { start } : { start, end }));

/** Every boundary of `spans` plus "": between two consecutive ones, membership cannot change. */
function probesOf(spans: readonly Span[]): string[] {
  return ["", ...spans.flatMap((each) => (each.end === undefined ? [each.start] : [each.start, each.end]))];
}

function inAny(spans: readonly Span[], probe: string): boolean {
  return spans.some((each) => spanContains(each, probe));
}

function isEmpty(each: Span): boolean {
  return each.end !== undefined && compareKeys(each.start, each.end) >= 0;
}

describe("span set operations", () => {
  it("intersection and overlap agree with membership at every boundary", () => {
    fc.assert(
      fc.property(span, span, (a, b) => {
        const overlap = spanIntersection(a, b);
        const probes = probesOf([a, b]);
        for (const probe of probes) {
          const both = spanContains(a, probe) && spanContains(b, probe);
          expect(overlap !== undefined && spanContains(overlap, probe)).toBe(both);
        }
        expect(spansOverlap(a, b)).toBe(probes.some((probe) => spanContains(a, probe) && spanContains(b, probe)));
        if (overlap !== undefined) expect(isEmpty(overlap)).toBe(false);
      }),
      { numRuns: 2_000 },
    );
  });

  it("subtraction gives at most two ordered, disjoint, non-empty pieces holding a and not b", () => {
    fc.assert(
      fc.property(span, span, (a, b) => {
        const pieces = spanSubtract(a, b);
        expect(pieces.length).toBeLessThanOrEqual(2);
        for (const piece of pieces) expect(isEmpty(piece)).toBe(false);
        if (pieces.length === 2) expect(compareKeys(pieces[0]!.end!, pieces[1]!.start)).toBeLessThan(0);
        for (const probe of probesOf([a, b])) {
          expect(inAny(pieces, probe)).toBe(spanContains(a, probe) && !spanContains(b, probe));
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it("normalizing keeps the union and leaves sorted spans with gaps between them", () => {
    fc.assert(
      fc.property(fc.array(span, { maxLength: 8 }), (spans) => {
        const normalized = normalizeSpans(spans);
        for (const probe of probesOf(spans)) expect(inAny(normalized, probe)).toBe(inAny(spans, probe));
        for (let index = 0; index + 1 < normalized.length; index++) {
          const end = normalized[index]!.end;
          expect(end).toBeDefined();
          expect(compareKeys(end!, normalized[index + 1]!.start)).toBeLessThan(0);
        }
        for (const each of normalized) expect(isEmpty(each)).toBe(false);
      }),
      { numRuns: 1_000 },
    );
  });

  it("spansCover holds exactly when every point of inner lies in some outer span", () => {
    fc.assert(
      fc.property(fc.array(span, { maxLength: 6 }), span, (outer, inner) => {
        const probes = probesOf([...outer, inner]).filter((probe) => spanContains(inner, probe));
        expect(spansCover(normalizeSpans(outer), inner)).toBe(probes.every((probe) => inAny(outer, probe)));
      }),
      { numRuns: 2_000 },
    );
  });

  it("handles unbounded and whole-keyspace spans", () => {
    expect(spanIntersection({ start: "" }, { start: "m" })).toEqual({ start: "m" });
    expect(spanSubtract({ start: "" }, { start: "b", end: "c" })).toEqual([{ start: "", end: "b" }, { start: "c" }]);
    expect(spanSubtract({ start: "a", end: "b" }, { start: "" })).toEqual([]);
    expect(normalizeSpans([{ start: "c" }, { start: "a", end: "b" }, { start: "b", end: "c" }])).toEqual([{ start: "a" }]);
    expect(spansCover([{ start: "a", end: "b" }, { start: "b" }], { start: "a" })).toBe(true);
    expect(spansCover([{ start: "a", end: "b" }], { start: "a" })).toBe(false);
  });
});

describe("prefixSuccessor", () => {
  const prefix = fc.oneof(position, anyKey);
  const suffix = fc.oneof(position, anyKey);

  it("bounds exactly the keys that start with the prefix", () => {
    fc.assert(
      fc.property(prefix, suffix, fc.oneof(position, anyKey), (stem, tail, other) => {
        const successor = prefixSuccessor(stem);
        const inside = (key: string): boolean => compareKeys(key, stem) >= 0 && (successor === undefined || compareKeys(key, successor) < 0);
        expect(inside(stem + tail)).toBe(true);
        expect(inside(other)).toBe(other.startsWith(stem));
        if (successor !== undefined) {
          expect(successor.startsWith(stem)).toBe(false);
          expect(compareKeys(successor, stem)).toBeGreaterThan(0);
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it("carries past U+10FFFF, skips the surrogates after U+D7FF and steps from U+FFFF to U+10000", () => {
    expect(prefixSuccessor("a\u{10ffff}")).toBe("b");
    expect(prefixSuccessor("a\u{10ffff}\u{10ffff}")).toBe("b");
    expect(prefixSuccessor("\u{10ffff}")).toBeUndefined();
    expect(prefixSuccessor("")).toBeUndefined();
    expect(prefixSuccessor("a\ud7ff")).toBe("a\ue000");
    expect(prefixSuccessor("a\uffff")).toBe("a\u{10000}");
    expect(prefixSuccessor("a\u{1f600}")).toBe("a\u{1f601}");
    expect(prefixSpan("user/")).toEqual({ start: "user/", end: "user0" });
    expect(prefixSpan("")).toEqual({ start: "" });
  });
});

/** FNV-1a 32 over TextEncoder's bytes. */
function fnv1a(key: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/** The oracle: FNV-1a 32 over TextEncoder's bytes, murmur3 fmix32, mod hashSlotCount. */
function hashSlotOracle(key: string): number {
  let hash = fnv1a(key);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  hash ^= hash >>> 16;
  return (hash >>> 0) % hashSlotCount;
}

describe("hashSlot", () => {
  it("keeps its golden values: they decide where data lives, forever", () => {
    const golden: Record<string, number> = { "": 3083, a: 435, "user/1": 2163, "user/2": 3720, "\u00e9t\u00e9": 813, "\u{1f600}": 2058 };
    for (const [key, slot] of Object.entries(golden)) expect(hashSlot(key), JSON.stringify(key)).toBe(slot);
  });

  it("hashes the UTF-8 bytes, as an independent TextEncoder oracle does", () => {
    // The oracle's FNV-1a matches the published test vectors.
    expect(fnv1a("a")).toBe(0xe40c292c);
    expect(fnv1a("foobar")).toBe(0xbf9cf968);
    fc.assert(fc.property(fc.oneof(anyKey, position), (key) => {
      expect(hashSlot(key)).toBe(hashSlotOracle(key));
    }), { numRuns: 3_000 });
  });

  it("spreads 100,000 similar keys evenly over the slots (chi-square within six deviations)", () => {
    const counts = new Array<number>(hashSlotCount).fill(0);
    const keys = 100_000;
    for (let index = 0; index < keys; index++) counts[hashSlot(`key-${index}`)]! += 1;
    const expected = keys / hashSlotCount;
    const chiSquare = counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
    const freedom = hashSlotCount - 1;
    expect(chiSquare).toBeLessThan(freedom + 6 * Math.sqrt(2 * freedom));
    expect(Math.min(...counts)).toBeGreaterThan(expected / 4);
    expect(Math.max(...counts)).toBeLessThan(expected * 2.5);
  });
});

describe("slot positions", () => {
  it("are fixed-width lowercase hex whose string order is numeric order", () => {
    expect(slotPosition(0)).toBe("0000");
    expect(slotPosition(255)).toBe("00ff");
    expect(slotPosition(hashSlotCount)).toBe("1000");
    fc.assert(
      fc.property(fc.nat(hashSlotCount), fc.nat(hashSlotCount), (left, right) => {
        expect(Math.sign(compareKeys(slotPosition(left), slotPosition(right)))).toBe(Math.sign(left - right));
        expect(slotAtOrAfter(slotPosition(left))).toBe(left);
      }),
    );
    expect(slotAtOrAfter("")).toBe(0);
    expect(slotAtOrAfter("00ff\u0000")).toBe(256);
    expect(slotAtOrAfter("z")).toBe(hashSlotCount);
  });

  it("positionOf is the key in range mode and the slot position in hash mode", () => {
    fc.assert(
      fc.property(anyKey, (key) => {
        expect(positionOf("range", key)).toBe(key);
        expect(positionOf("hash", key)).toBe(slotPosition(hashSlot(key)));
      }),
    );
  });
});

describe("spanProblemOf", () => {
  it("accepts well-formed spans, bounded or not, and ignores other fields", () => {
    expect(spanProblemOf({ start: "" })).toBeUndefined();
    expect(spanProblemOf({ start: "a", end: "b", to: "g1" })).toBeUndefined();
    expect(spanProblemOf({ start: "\u{1f600}", end: "\u{1f601}" })).toBeUndefined();
    expect(spanProblemOf({ start: "x".repeat(keyBytesMax) })).toBeUndefined();
  });

  it("names what is wrong with a malformed span", () => {
    expect(spanProblemOf(null)).toMatch(/object/);
    expect(spanProblemOf(["a", "b"])).toMatch(/object/);
    expect(spanProblemOf("a")).toMatch(/object/);
    expect(spanProblemOf({})).toMatch(/start must be a string/);
    expect(spanProblemOf({ start: 1 })).toMatch(/start must be a string/);
    expect(spanProblemOf({ start: "a", end: null })).toMatch(/end must be a string/);
    expect(spanProblemOf({ start: "a\ud800" })).toMatch(/start must be well-formed/);
    expect(spanProblemOf({ start: "a", end: "\udc00" })).toMatch(/end must be well-formed/);
    expect(spanProblemOf({ start: "x".repeat(keyBytesMax + 1) })).toMatch(/more than/);
    expect(spanProblemOf({ start: "b", end: "a" })).toMatch(/before its end/);
    expect(spanProblemOf({ start: "a", end: "a" })).toMatch(/before its end/);
    expect(spanProblemOf({ start: "\u{1f600}", end: "\uffff" })).toMatch(/before its end/);
  });
});
