/**
 * Proves that the leader balancer's saved state (multiraft/leader-balance.ts `savedPasses`,
 * `savedGroups`, `restored`) carries everything its decisions depend on: a balancer restored from
 * a JSON round trip of its state at random moments decides exactly what one that never restarted
 * decides, over half an hour of shifting traffic across nine groups; and after a restart right
 * after a transfer the minimum time between two transfers of a group still holds, where a
 * balancer that started empty (the state lost) moves the group again at once.
 */
import { describe, expect, it } from "vitest";
import { defaultLeaderBalanceRules, LeaderBalance, type LeaderBalanceRules, type LeaderMove } from "../../src/multiraft/leader-balance.ts";
import type { PerLocation, PlacedReplica } from "../../src/multiraft/leader-placement.ts";

const replicas: PlacedReplica[] = [{ id: 1, location: "wnam" }, { id: 2, location: "weur" }, { id: 3, location: "apac" }];
const locations = ["wnam", "weur", "apac"];

/** A restart: the state saved as the host saves it (JSON), read back into a new balancer. */
function restart(balance: LeaderBalance, rules: LeaderBalanceRules): LeaderBalance {
  const saved = JSON.parse(JSON.stringify({ passes: balance.savedPasses(), groups: balance.savedGroups() })) as { passes: ReturnType<LeaderBalance["savedPasses"]>; groups: ReturnType<LeaderBalance["savedGroups"]> };
  return LeaderBalance.restored(rules, saved.passes, saved.groups);
}

/** Runs groups from `fromMs` to `toMs` in 1 s steps (reports every 5 s, passes when due, transfers take effect at once); `restartAt(now)` restarts the balancer then. */
function run(options: { balance: LeaderBalance; rules: LeaderBalanceRules; leaders: Map<string, { leader: number; term: number }>; fromMs: number; toMs: number; traffic: (group: string, nowMs: number) => PerLocation | undefined; restartAt?: (nowMs: number) => boolean }): { balance: LeaderBalance; moves: (LeaderMove & { atMs: number })[] } {
  let balance = options.balance;
  const moves: (LeaderMove & { atMs: number })[] = [];
  for (let now = options.fromMs; now <= options.toMs; now += 1_000) {
    if (options.restartAt?.(now) === true) balance = restart(balance, options.rules);
    if (now % 5_000 === 0) {
      for (const [group, { leader, term }] of options.leaders) {
        const requests = options.traffic(group, now);
        if (requests !== undefined) balance.note({ group, leader, term, requests }, now);
      }
    }
    const due = balance.nextPassAtMs(now);
    if (due === null || due > now) continue;
    for (const move of balance.plan(now, (group) => (options.leaders.has(group) ? replicas : undefined))) {
      const next = { leader: move.to, term: options.leaders.get(move.group)!.term + 1 };
      options.leaders.set(move.group, next);
      balance.transferred(move.group, next.leader, next.term, now);
      moves.push({ ...move, atMs: now });
    }
  }
  return { balance, moves };
}

/** Deterministic pseudo-random numbers (a linear congruential generator) for the traffic and restart times. */
function numbers(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

describe("the leader balancer's saved state", () => {
  it("restored at random moments, decides exactly what a balancer that never restarted decides", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = numbers(seed);
      const groups = Array.from({ length: 9 }, (_, index) => `g${index}`);
      // Each group's traffic comes from one location per 5-minute phase, or from everywhere, chosen at random.
      const phases = groups.map(() => Array.from({ length: 7 }, () => Math.floor(random() * 4)));
      const traffic = (group: string, now: number): PerLocation | undefined => {
        const choice = phases[Number(group.slice(1))]![Math.floor(now / 300_000)]!;
        if (choice === 3) return { wnam: 10, weur: 10, apac: 10 };
        return { [locations[choice]!]: 40, [locations[(choice + 1) % 3]!]: 5 };
      };
      const restarts = new Set(Array.from({ length: 12 }, () => Math.floor(random() * 1_800) * 1_000));
      const leaders = () => new Map(groups.map((group) => [group, { leader: 1, term: 2 }]));
      const rules = defaultLeaderBalanceRules;
      const steady = run({ balance: new LeaderBalance(rules), rules, leaders: leaders(), fromMs: 0, toMs: 1_800_000, traffic });
      const restarted = run({ balance: new LeaderBalance(rules), rules, leaders: leaders(), fromMs: 0, toMs: 1_800_000, traffic, restartAt: (now) => restarts.has(now) });
      expect(steady.moves.length, `seed ${seed}: the traffic moves leaders`).toBeGreaterThan(3);
      expect(restarted.moves, `seed ${seed}`).toEqual(steady.moves);
    }
  });

  it("keeps the minimum time between two transfers of a group across a restart", () => {
    const rules = { ...defaultLeaderBalanceRules, halfLifeMs: 3_000 }; // counts fade in seconds: only the interval holds a move back
    const leaders = new Map([["shop", { leader: 1, term: 2 }]]);
    const first = run({ balance: new LeaderBalance(rules), rules, leaders, fromMs: 0, toMs: 20_000, traffic: () => ({ weur: 100 }) });
    expect(first.moves.map((move) => move.to)).toEqual([2]);
    const movedAt = first.moves[0]!.atMs;
    const afterLoss = new Map(leaders);
    const restored = run({ balance: restart(first.balance, rules), rules, leaders, fromMs: 21_000, toMs: 200_000, traffic: () => ({ apac: 100 }) });
    expect(restored.moves.map((move) => move.to)).toEqual([3]);
    expect(restored.moves[0]!.atMs - movedAt).toBeGreaterThanOrEqual(rules.transferIntervalMinMs);
    // The control: with the state lost, the balancer starts empty and moves the group again within seconds.
    const lost = run({ balance: new LeaderBalance(rules), rules, leaders: afterLoss, fromMs: 21_000, toMs: 200_000, traffic: () => ({ apac: 100 }) });
    expect(lost.moves.map((move) => move.to)).toEqual([3]);
    expect(lost.moves[0]!.atMs - movedAt).toBeLessThan(rules.transferIntervalMinMs);
  });
});
