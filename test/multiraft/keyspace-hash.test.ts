/**
 * Proves the hashed keyspace of src/multiraft/keyspace.ts: hashedTable shares the slots equally and
 * contiguously; rebalanceMoves gives a new group exactly its fair share, takes it from the largest
 * holders, moves nothing else (every slot outside a move keeps its owner, counted slot by slot),
 * and keeps every group within one slot of its fair share while groups 1..16 are added one by one;
 * and lookupKey of a hashed table routes a key by its slot.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashSlot, slotPosition, spanContains } from "../../src/kv/span.ts";
import {
  type RangeMove,
  type RangeTable,
  assignSpan,
  groupsOf,
  hashedTable,
  lookupKey,
  lookupPosition,
  rebalanceMoves,
  slotCountsOf,
  tableProblemOf,
} from "../../src/multiraft/keyspace.ts";
import { hashSlotCount } from "../../src/shared/limits.ts";

/** The owner of every slot, found by walking the slots and the sorted ranges side by side (the oracle). */
function ownersBySlot(table: RangeTable): string[] {
  const owners: string[] = [];
  let index = 0;
  for (let slot = 0; slot < hashSlotCount; slot++) {
    while (!spanContains(table.ranges[index]!, slotPosition(slot))) index += 1;
    owners.push(table.ranges[index]!.group);
  }
  return owners;
}

function applyMoves(table: RangeTable, moves: readonly RangeMove[]): RangeTable {
  return moves.reduce((current, move) => assignSpan(current, move.span, move.to), table);
}

/** Checks one rebalance of `table` for `newGroup`, returns the table after it. */
function checkRebalance(table: RangeTable, newGroup: string): { after: RangeTable; moves: RangeMove[] } {
  const before = ownersBySlot(table);
  const countsBefore = slotCountsOf(table);
  const moves = rebalanceMoves(table, newGroup);
  const after = applyMoves(table, moves);
  expect(tableProblemOf(after)).toBeUndefined();
  const owners = ownersBySlot(after);
  const moved = new Set<number>();
  const wrong: string[] = [];
  for (const move of moves) {
    expect(move.to).toBe(newGroup);
    for (let slot = 0; slot < hashSlotCount; slot++) {
      if (!spanContains(move.span, slotPosition(slot))) continue;
      if (before[slot] !== move.from) wrong.push(`slot ${slot} moved from ${move.from} but owned by ${before[slot]}`);
      if (moved.has(slot)) wrong.push(`slot ${slot} moved twice`);
      moved.add(slot);
    }
  }
  for (let slot = 0; slot < hashSlotCount; slot++) {
    const expected = moved.has(slot) ? newGroup : before[slot];
    if (owners[slot] !== expected) wrong.push(`slot ${slot} owned by ${owners[slot]}, expected ${expected}`);
  }
  expect(wrong).toEqual([]);
  const others = [...countsBefore.keys()].filter((group) => group !== newGroup);
  const share = Math.floor(hashSlotCount / (others.length + 1));
  const held = owners.filter((owner) => owner === newGroup).length;
  expect(held).toBe(Math.max(share, countsBefore.get(newGroup) ?? 0));
  // The donors were the largest holders: none ends more than one slot below a group that gave nothing.
  const countsAfter = slotCountsOf(after);
  const donors = new Set(moves.map((move) => move.from));
  const keptAll = others.filter((group) => !donors.has(group)).map((group) => countsAfter.get(group)!);
  for (const donor of donors) expect(countsAfter.get(donor)!).toBeGreaterThanOrEqual(Math.max(0, ...keptAll) - 1);
  return { after, moves };
}

describe("hashedTable", () => {
  it("gives each group one contiguous share of the slots, within one slot of the others", () => {
    for (const size of [1, 2, 3, 5, 7, 16, 100]) {
      const groups = Array.from({ length: size }, (_, index) => `g${index}`);
      const table = hashedTable(groups);
      expect(tableProblemOf(table)).toBeUndefined();
      expect(table.mode).toBe("hash");
      expect(groupsOf(table)).toEqual(groups);
      const counts = [...slotCountsOf(table).values()];
      expect(counts.reduce((sum, count) => sum + count, 0)).toBe(hashSlotCount);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
  });

  it("routes a key by its slot", () => {
    const table = hashedTable(["g0", "g1", "g2", "g3"]);
    for (const key of ["user/1", "user/2", "\u{1f600}", "a"]) {
      const slot = hashSlot(key);
      expect(lookupKey(table, key).group).toBe(`g${Math.floor((slot * 4) / hashSlotCount)}`);
      expect(lookupKey(table, key)).toBe(lookupPosition(table, slotPosition(slot)));
    }
  });
});

describe("rebalanceMoves", () => {
  it("adding groups 1..16 one by one keeps every group within one slot of its fair share", () => {
    let table = hashedTable(["g0"]);
    for (let added = 1; added <= 16; added++) {
      const { after, moves } = checkRebalance(table, `g${added}`);
      expect(moves.length, "one contiguous span from each donor").toBeLessThanOrEqual(added);
      table = after;
      const groups = added + 1;
      const share = hashSlotCount / groups;
      for (const count of slotCountsOf(table).values()) {
        expect(count).toBeGreaterThanOrEqual(Math.floor(share) - 1);
        expect(count).toBeLessThanOrEqual(Math.ceil(share) + 1);
      }
    }
  });

  it("moves a single contiguous span per donor when the table is contiguous", () => {
    const table = hashedTable(["g0", "g1"]);
    const moves = rebalanceMoves(table, "g2");
    expect(moves).toHaveLength(2);
    const after = applyMoves(table, moves);
    expect(after.ranges.filter((entry) => entry.group === "g2")).toHaveLength(1);
    expect(slotCountsOf(after).get("g2")).toBe(Math.floor(hashSlotCount / 3));
  });

  it("tops up a group that holds less than its share with one slot from each of the equal largest holders", () => {
    const table: RangeTable = {
      mode: "hash",
      epoch: 1,
      ranges: [
        { start: "", end: slotPosition(1025), group: "g0" },
        { start: slotPosition(1025), end: slotPosition(2050), group: "g1" },
        { start: slotPosition(2050), end: slotPosition(3075), group: "g2" },
        { start: slotPosition(3075), group: "g3" },
      ],
    };
    const { after, moves } = checkRebalance(table, "g3");
    expect(moves.map((move) => move.from)).toEqual(["g0", "g1", "g2"]);
    expect([...slotCountsOf(after).values()]).toEqual([1024, 1024, 1024, 1024]);
  });

  it("moves nothing when the group already holds its share", () => {
    const table = hashedTable(["g0", "g1", "g2"]);
    expect(rebalanceMoves(table, "g2")).toEqual([]);
  });

  it("takes only the new group's share from the largest holders of a random uneven table", () => {
    const slotSpan = fc.tuple(fc.nat(hashSlotCount), fc.nat(hashSlotCount)).map(([a, b]) => ({
      start: slotPosition(Math.min(a, b)),
      end: slotPosition(Math.max(a, b)),
    }));
    const groups = fc.integer({ min: 1, max: 8 });
    const steps = fc.array(fc.tuple(slotSpan, fc.integer({ min: 0, max: 9 })), { maxLength: 10 });
    fc.assert(
      fc.property(groups, steps, fc.integer({ min: 0, max: 10 }), (size, assignments, newcomer) => {
        let table = hashedTable(Array.from({ length: size }, (_, index) => `g${index}`));
        for (const [span, owner] of assignments) table = assignSpan(table, span, `g${owner}`);
        checkRebalance(table, `g${newcomer}`);
      }),
      { numRuns: 300 },
    );
  });
});
