/**
 * Proves the range table of src/multiraft/keyspace.ts against naive oracles: tables built by random
 * sequences of assignSpan (in range and hash mode) keep every invariant, and lookupKey agrees with
 * both a linear scan of the ranges and the assignment history replayed point by point (the last
 * assignment covering a position owns it), for keys from all of Unicode and edge code points;
 * entriesWithin, spansOf, groupsOf and adjacent agree with their definitions; and
 * fromLegacyRouting agrees with the legacy routeKey on random legacy tables with nested prefixes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareKeys } from "../../src/kv/key-order.ts";
import { type KeyspaceMode, type Span, positionOf, spanContains } from "../../src/kv/span.ts";
import {
  type RangeTable,
  adjacent,
  assignSpan,
  entriesWithin,
  fromLegacyRouting,
  groupsOf,
  lookupKey,
  lookupPosition,
  singleGroupTable,
  spansOf,
  tableProblemOf,
} from "../../src/multiraft/keyspace.ts";
import { type RouteEntry, type RoutingTable, routeKey } from "../../src/multiraft/routing.ts";
import { anyKey } from "../kv/arbitraries.ts";

/** Code points where UTF-16 and UTF-8 order differ, or where a prefix successor skips or carries. */
const edgeCharacter = fc.constantFrom("\u0000", "a", "b", "c", "\u00e9", "\ud7ff", "\ue000", "\uffff", "\u{10000}", "\u{1f600}", "\u{10ffff}");
/** Short strings of edge characters (possibly empty), so that positions collide, touch and nest. */
const edgeString = fc.array(edgeCharacter, { maxLength: 3 }).map((parts) => parts.join(""));
/** Slot-like positions for hash mode: hex strings near and between slot positions. */
const hexString = fc.array(fc.constantFrom("0", "1", "7", "8", "f"), { minLength: 0, maxLength: 5 }).map((parts) => parts.join(""));
const group = fc.constantFrom("g0", "g1", "g2", "g3", "g4");
const mode = fc.constantFrom<KeyspaceMode>("range", "hash");

function spanOver(bound: fc.Arbitrary<string>): fc.Arbitrary<Span> {
  return fc.tuple(bound, fc.option(bound, { nil: undefined })).map(([start, end]) => (end === undefined ? { start } : { start, end }));
}

/** A random table: a start group and assignments, with the table they build. */
const built = mode.chain((chosen) => {
  const bound = chosen === "range" ? edgeString : hexString;
  return fc.record({ mode: fc.constant(chosen), first: group, steps: fc.array(fc.tuple(spanOver(bound), group), { maxLength: 12 }) });
});

function build(plan: { mode: KeyspaceMode; first: string; steps: [Span, string][] }): RangeTable {
  return plan.steps.reduce((table, [span, owner]) => assignSpan(table, span, owner), singleGroupTable(plan.mode, plan.first));
}

/** The oracle: replay the assignments for one position; the last one covering it wins. */
function replayOwner(plan: { first: string; steps: [Span, string][] }, position: string): string {
  let owner = plan.first;
  for (const [span, assigned] of plan.steps) if (spanContains(span, position)) owner = assigned;
  return owner;
}

function linearOwner(table: RangeTable, position: string): string {
  const found = table.ranges.filter((entry) => spanContains(entry, position));
  expect(found).toHaveLength(1);
  return found[0]!.group;
}

const lookupKeyArbitrary = fc.oneof(anyKey, edgeString, hexString);

describe("assignSpan and lookup", () => {
  it("every table built by assignSpan keeps the invariants, and the epoch grows exactly when it changes", () => {
    fc.assert(
      fc.property(built, (plan) => {
        let table = singleGroupTable(plan.mode, plan.first);
        expect(tableProblemOf(table)).toBeUndefined();
        for (const [span, owner] of plan.steps) {
          const next = assignSpan(table, span, owner);
          expect(tableProblemOf(next)).toBeUndefined();
          const changed = JSON.stringify(next.ranges) !== JSON.stringify(table.ranges);
          expect(next.epoch).toBe(changed ? table.epoch + 1 : table.epoch);
          if (!changed) expect(next).toBe(table);
          table = next;
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it("lookupKey agrees with a linear scan and with replaying the assignments, for any key", () => {
    fc.assert(
      fc.property(built, fc.array(lookupKeyArbitrary, { minLength: 1, maxLength: 20 }), (plan, keys) => {
        const table = build(plan);
        for (const key of keys) {
          const position = positionOf(table.mode, key);
          const owner = lookupKey(table, key).group;
          expect(owner).toBe(linearOwner(table, position));
          expect(owner).toBe(replayOwner(plan, position));
          expect(spanContains(lookupKey(table, key), position)).toBe(true);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it("after assignSpan every position in the span belongs to the group and every other keeps its owner", () => {
    fc.assert(
      fc.property(built, spanOver(edgeString), group, fc.array(edgeString, { maxLength: 20 }), (plan, span, owner, probes) => {
        const before = build({ ...plan, mode: "range" });
        const after = assignSpan(before, span, owner);
        const boundaries = [...before.ranges, span].flatMap((each) => [each.start, ...(each.end === undefined ? [] : [each.end])]);
        for (const position of [...probes, ...boundaries]) {
          const expected = spanContains(span, position) ? owner : lookupPosition(before, position).group;
          expect(lookupPosition(after, position).group).toBe(expected);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it("keeps the whole keyspace and coalesces neighbours in a worked example", () => {
    let table = singleGroupTable("range", "default");
    table = assignSpan(table, { start: "b", end: "d" }, "g1");
    table = assignSpan(table, { start: "d", end: "f" }, "g1");
    expect(table.ranges).toEqual([
      { start: "", end: "b", group: "default" },
      { start: "b", end: "f", group: "g1" },
      { start: "f", group: "default" },
    ]);
    expect(table.epoch).toBe(3);
    expect(assignSpan(table, { start: "c", end: "e" }, "g1")).toBe(table);
    expect(assignSpan(table, { start: "c", end: "c" }, "g2")).toBe(table);
    table = assignSpan(table, { start: "" }, "g2");
    expect(table.ranges).toEqual([{ start: "", group: "g2" }]);
  });
});

describe("queries over a table", () => {
  it("entriesWithin clips the overlapping entries to the span, in order, covering it exactly", () => {
    fc.assert(
      fc.property(built, spanOver(edgeString), fc.array(edgeString, { maxLength: 10 }), (plan, span, probes) => {
        const table = build({ ...plan, mode: "range" });
        const within = entriesWithin(table, span);
        for (let index = 0; index + 1 < within.length; index++) expect(within[index]!.end).toBe(within[index + 1]!.start);
        const boundaries = [...table.ranges, span].flatMap((each) => [each.start, ...(each.end === undefined ? [] : [each.end])]);
        for (const position of [...probes, ...boundaries]) {
          const holders = within.filter((entry) => spanContains(entry, position));
          expect(holders.length).toBe(spanContains(span, position) ? 1 : 0);
          if (holders.length === 1) expect(holders[0]!.group).toBe(lookupPosition(table, position).group);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it("spansOf, groupsOf and adjacent agree with the ranges", () => {
    fc.assert(
      fc.property(built, (plan) => {
        const table = build(plan);
        const groups = groupsOf(table);
        expect(new Set(groups)).toEqual(new Set(table.ranges.map((entry) => entry.group)));
        expect(new Set(groups).size).toBe(groups.length);
        const firstAppearances = groups.map((each) => table.ranges.findIndex((entry) => entry.group === each));
        expect(firstAppearances).toEqual([...firstAppearances].sort((a, b) => a - b));
        for (const each of ["g0", "g1", "g2", "g3", "g4"]) {
          const owned = spansOf(table, each);
          expect(owned).toEqual(table.ranges.filter((entry) => entry.group === each).map(({ start, end }) => (end === undefined ? { start } : { start, end })));
          for (let index = 0; index + 1 < owned.length; index++) expect(compareKeys(owned[index]!.end!, owned[index + 1]!.start)).toBeLessThan(0);
          for (const other of ["g0", "g1", "g2", "g3", "g4"]) {
            const touching = spansOf(table, other).some((span) => owned.some((mine) => mine.end === span.start || span.end === mine.start));
            expect(adjacent(table, each, other)).toBe(each !== other && touching);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it("tableProblemOf names each broken invariant", () => {
    const whole = singleGroupTable("range", "g0");
    expect(tableProblemOf(whole)).toBeUndefined();
    expect(tableProblemOf({ ...whole, ranges: [] })).toMatch(/at least one/);
    expect(tableProblemOf({ ...whole, epoch: 0 })).toMatch(/epoch/);
    expect(tableProblemOf({ ...whole, ranges: [{ start: "a", group: "g0" }] })).toMatch(/beginning/);
    expect(tableProblemOf({ ...whole, ranges: [{ start: "", end: "m", group: "g0" }] })).toMatch(/unbounded/);
    expect(tableProblemOf({ ...whole, ranges: [{ start: "", group: "g0" }, { start: "m", group: "g1" }] })).toMatch(/not last/);
    const gap = [{ start: "", end: "k", group: "g0" }, { start: "m", group: "g1" }];
    expect(tableProblemOf({ ...whole, ranges: gap })).toMatch(/next starts/);
    const twin = [{ start: "", end: "m", group: "g0" }, { start: "m", group: "g0" }];
    expect(tableProblemOf({ ...whole, ranges: twin })).toMatch(/coalesced/);
    const reversed = [{ start: "", end: "m", group: "g0" }, { start: "m", end: "c", group: "g1" }, { start: "c", group: "g2" }];
    expect(tableProblemOf({ ...whole, ranges: reversed })).toMatch(/empty or reversed/);
    expect(tableProblemOf({ ...whole, ranges: [{ start: "", group: "" }] })).toMatch(/no group/);
  });
});

/** Legacy entries: prefixes from a nested pool (the empty prefix too), and ranges that may overlap. */
const legacyEntry: fc.Arbitrary<RouteEntry> = fc.oneof(
  fc.tuple(fc.oneof(edgeString, fc.constantFrom("a", "ab", "abc", "a\u{10ffff}", "\u{10ffff}")), group).map(
    ([prefix, owner]): RouteEntry => ({ kind: "prefix", prefix, group: owner }),
  ),
  fc.tuple(spanOver(edgeString), group).map(([span, owner]): RouteEntry => ({ kind: "range", ...span, group: owner })),
);
const legacyTable: fc.Arbitrary<RoutingTable> = fc.record({ epoch: fc.integer({ min: 1, max: 1_000 }), entries: fc.array(legacyEntry, { maxLength: 10 }) });

describe("fromLegacyRouting", () => {
  it("routes every key where the legacy routeKey does, nested prefixes included", () => {
    fc.assert(
      fc.property(legacyTable, fc.array(fc.oneof(anyKey, edgeString), { minLength: 1, maxLength: 30 }), (legacy, keys) => {
        const table = fromLegacyRouting(legacy);
        expect(tableProblemOf(table)).toBeUndefined();
        expect(table.mode).toBe("range");
        expect(table.epoch).toBe(legacy.epoch);
        const probes = [...keys, ...legacy.entries.flatMap((entry) => (entry.kind === "prefix" ? [entry.prefix] : [entry.start]))];
        for (const key of probes) expect(lookupKey(table, key).group, JSON.stringify(key)).toBe(routeKey(legacy, key));
      }),
      { numRuns: 2_000 },
    );
  });

  it("lets the longest prefix win over a shorter one and over a range", () => {
    const legacy: RoutingTable = {
      epoch: 7,
      entries: [
        { kind: "range", start: "a", end: "z", group: "letters" },
        { kind: "prefix", prefix: "user/", group: "users" },
        { kind: "prefix", prefix: "user/admin/", group: "admins" },
      ],
    };
    const table = fromLegacyRouting(legacy);
    for (const key of ["user/1", "user/admin/1", "user/admin", "user0", "b", "0", "zz"]) expect(lookupKey(table, key).group).toBe(routeKey(legacy, key));
    expect(lookupKey(table, "user/admin/x").group).toBe("admins");
    expect(lookupKey(table, "user/x").group).toBe("users");
    expect(lookupKey(table, "zz").group).toBe("default");
  });
});
