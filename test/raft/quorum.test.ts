/**
 * Proves the quorum arithmetic with table tests: majority and joint commit indexes, and vote
 * outcomes, including the empty half of a non-joint configuration.
 */
import { describe, expect, it } from "vitest";
import { jointCommitted, jointVoteResult, majorityCommitted, majorityVoteResult } from "../../src/raft/quorum.ts";

const matchFrom = (matches: Record<number, number>) => (id: number) => matches[id] ?? 0;

describe("majority committed index", () => {
  const table: [number[], Record<number, number>, number][] = [
    [[1], { 1: 5 }, 5],
    [[1, 2, 3], { 1: 5, 2: 4, 3: 1 }, 4],
    [[1, 2, 3], { 1: 5 }, 0],
    [[1, 2, 3, 4], { 1: 9, 2: 8, 3: 7, 4: 1 }, 7],
    [[1, 2, 3, 4, 5], { 1: 9, 2: 9, 3: 2, 4: 1, 5: 1 }, 2],
  ];
  for (const [voters, matches, expected] of table) {
    it(`voters ${voters} with ${JSON.stringify(matches)} commit ${expected}`, () => {
      expect(majorityCommitted(voters, matchFrom(matches))).toBe(expected);
    });
  }
  it("joint commit is the minimum of both halves", () => {
    expect(jointCommitted([1, 2, 3], [3, 4, 5], matchFrom({ 1: 9, 2: 9, 3: 5, 4: 2, 5: 1 }))).toBe(2);
    expect(jointCommitted([1, 2, 3], [], matchFrom({ 1: 9, 2: 9, 3: 5 }))).toBe(9);
  });
});

describe("vote results", () => {
  it("wins with a majority, loses when a majority refused, else pending", () => {
    expect(majorityVoteResult([1, 2, 3], new Map([[1, true], [2, true]]))).toBe("won");
    expect(majorityVoteResult([1, 2, 3], new Map([[1, true], [2, false]]))).toBe("pending");
    expect(majorityVoteResult([1, 2, 3], new Map([[1, true], [2, false], [3, false]]))).toBe("lost");
    expect(majorityVoteResult([], new Map())).toBe("won");
  });
  it("a joint election needs both halves", () => {
    const votes = new Map([[1, true], [2, true], [4, false], [5, false]]);
    expect(jointVoteResult([1, 2, 3], [3, 4, 5], votes)).toBe("lost");
    votes.set(4, true);
    votes.set(5, false);
    expect(jointVoteResult([1, 2, 3], [3, 4, 5], votes)).toBe("pending");
    votes.set(3, true);
    expect(jointVoteResult([1, 2, 3], [3, 4, 5], votes)).toBe("won");
  });
});
