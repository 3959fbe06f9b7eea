/**
 * Proves FollowerLag, the leader's view of lag in seconds: a follower that holds every committed
 * entry has lag 0; one that falls behind has lag growing from the last tick it was caught up; a
 * new leader starts every clock at its first tick; a replica that is not leading reports none.
 */
import { describe, expect, it } from "vitest";
import { FollowerLag } from "../../src/hosts/common/follower-lag.ts";

const progressOf = (matches: Record<number, number>) =>
  Object.fromEntries(Object.entries(matches).map(([id, match]) => [id, { match, next: match + 1, state: "replicate" as const, recentActive: true }]));

describe("FollowerLag", () => {
  it("measures how long each follower has been behind the leader's commit", () => {
    const lag = new FollowerLag();
    lag.note(1, true, { commit: 10, progress: progressOf({ 1: 10, 2: 10, 3: 10 }) }, 1_000);
    lag.note(1, true, { commit: 20, progress: progressOf({ 1: 20, 2: 20, 3: 10 }) }, 2_000);
    lag.note(1, true, { commit: 30, progress: progressOf({ 1: 30, 2: 30, 3: 12 }) }, 3_000);
    expect(lag.lagMs(1, true, { commit: 30, progress: progressOf({ 1: 30, 2: 30, 3: 12 }) }, 4_500)).toEqual({ 2: 0, 3: 3_500 });
    lag.note(1, true, { commit: 30, progress: progressOf({ 1: 30, 2: 30, 3: 30 }) }, 5_000);
    expect(lag.lagMs(1, true, { commit: 30, progress: progressOf({ 1: 30, 2: 30, 3: 30 }) }, 5_000)).toEqual({ 2: 0, 3: 0 });
  });

  it("starts every clock at a new leader's first tick, and reports nothing when not leading", () => {
    const lag = new FollowerLag();
    lag.note(2, true, { commit: 50, progress: progressOf({ 1: 40, 2: 50 }) }, 7_000);
    expect(lag.lagMs(2, true, { commit: 50, progress: progressOf({ 1: 40, 2: 50 }) }, 7_250)).toEqual({ 1: 250 });
    lag.note(2, false, { commit: 0, progress: {} }, 8_000);
    expect(lag.lagMs(2, false, { commit: 50, progress: progressOf({ 1: 40, 2: 50 }) }, 8_000)).toEqual({});
    lag.note(2, true, { commit: 50, progress: progressOf({ 1: 40, 2: 50 }) }, 9_000);
    expect(lag.lagMs(2, true, { commit: 50, progress: progressOf({ 1: 40, 2: 50 }) }, 9_100)).toEqual({ 1: 100 });
  });
});
