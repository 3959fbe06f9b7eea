/**
 * Property tests of the fast quorum code against naive oracles (fast-check): the committed index
 * is the largest index that a majority stores, found by brute force; a vote is won exactly when
 * a strict majority granted, and lost exactly when a majority can no longer be reached.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { majorityCommitted, majorityVoteResult } from "../../src/raft/quorum.ts";

describe("quorum against naive oracles", () => {
  it("majorityCommitted is the largest index stored by a majority", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(50), { minLength: 1, maxLength: 9 }), (matches) => {
        const voters = matches.map((_, i) => i + 1);
        let oracle = 0;
        for (let index = 0; index <= 50; index++) {
          if (matches.filter((m) => m >= index).length * 2 > matches.length) oracle = index;
        }
        expect(majorityCommitted(voters, (id) => matches[id - 1]!)).toBe(oracle);
      }),
    );
  });

  it("majorityVoteResult matches counting by hand", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<boolean | undefined>(true, false, undefined), { minLength: 1, maxLength: 9 }), (ballots) => {
        const voters = ballots.map((_, i) => i + 1);
        const votes = new Map<number, boolean>();
        ballots.forEach((b, i) => b !== undefined && votes.set(i + 1, b));
        const yes = ballots.filter((b) => b === true).length;
        const open = ballots.filter((b) => b === undefined).length;
        const half = ballots.length / 2;
        const oracle = yes > half ? "won" : yes + open > half ? "pending" : "lost";
        expect(majorityVoteResult(voters, votes)).toBe(oracle);
      }),
    );
  });
});
