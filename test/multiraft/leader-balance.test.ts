/**
 * Proves the leader balancer's decisions over time (multiraft/leader-balance.ts), with a simulated
 * clock: leaders report their requests every 5 s, passes run when due, and every planned transfer
 * takes effect at once. A group whose requests come mostly from one location gets its leader there
 * and keeps it; equal traffic spreads leaderships evenly across locations; traffic alternating
 * between two locations causes no transfer loop; a group whose traffic moves for good follows it,
 * no sooner than the minimum time between transfers; idle groups are never moved and an idle
 * cluster needs no pass at all.
 */
import { describe, expect, it } from "vitest";
import { defaultLeaderBalanceRules, LeaderBalance, type LeaderMove } from "../../src/multiraft/leader-balance.ts";
import type { PerLocation, PlacedReplica } from "../../src/multiraft/leader-placement.ts";

const replicas: PlacedReplica[] = [{ id: 1, location: "wnam" }, { id: 2, location: "weur" }, { id: 3, location: "apac" }];
const reportMs = 5_000;

interface World {
  readonly balance: LeaderBalance;
  readonly leaders: Map<string, { leader: number; term: number }>;
  readonly moves: (LeaderMove & { atMs: number })[];
}

/** Runs the world from `fromMs` to `toMs` in 1 s steps; `traffic(group, nowMs)` is what each group's leader served in the last report window. */
function run(world: World, fromMs: number, toMs: number, traffic: (group: string, nowMs: number) => PerLocation | undefined): void {
  for (let now = fromMs; now <= toMs; now += 1_000) {
    if (now % reportMs === 0) {
      for (const [group, { leader, term }] of world.leaders) {
        const requests = traffic(group, now);
        if (requests !== undefined) world.balance.note({ group, leader, term, requests }, now);
      }
    }
    const due = world.balance.nextPassAtMs(now);
    if (due === null || due > now) continue;
    for (const move of world.balance.plan(now, (group) => (world.leaders.has(group) ? replicas : undefined))) {
      const next = { leader: move.to, term: world.leaders.get(move.group)!.term + 1 };
      world.leaders.set(move.group, next);
      world.balance.transferred(move.group, next.leader, next.term, now);
      world.moves.push({ ...move, atMs: now });
    }
  }
}

function world(groups: string[], leader = 1, rules = defaultLeaderBalanceRules): World {
  return { balance: new LeaderBalance(rules), leaders: new Map(groups.map((group) => [group, { leader, term: 2 }])), moves: [] };
}

function leadershipsPerLocation(w: World): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { leader } of w.leaders.values()) {
    const location = replicas.find((replica) => replica.id === leader)!.location;
    counts[location] = (counts[location] ?? 0) + 1;
  }
  return counts;
}

describe("the leader balancer", () => {
  it("moves a group whose requests come mostly from one location to the replica there, once", () => {
    const w = world(["orders"]);
    run(w, 0, 600_000, () => ({ apac: 90, wnam: 10 }));
    expect(w.leaders.get("orders")!.leader).toBe(3);
    expect(w.moves.map((move) => `${move.from}->${move.to} ${move.reason}`)).toEqual(["1->3 score"]);
    expect(w.moves[0]!.atMs).toBeLessThanOrEqual(2 * defaultLeaderBalanceRules.passIntervalMs);
  });

  it("spreads leaderships evenly across locations when traffic is equal from everywhere, then holds still", () => {
    const groups = Array.from({ length: 9 }, (_, index) => `tenant-${index}`);
    const w = world(groups);
    run(w, 0, 120_000, () => ({ wnam: 20, weur: 20, apac: 20 }));
    expect(leadershipsPerLocation(w)).toEqual({ wnam: 3, weur: 3, apac: 3 });
    const settled = w.moves.length;
    run(w, 121_000, 1_200_000, () => ({ wnam: 20, weur: 20, apac: 20 }));
    expect(w.moves.length).toBe(settled);
  });

  it("makes no transfer loop under traffic alternating between two locations", () => {
    for (const periodMs of [10_000, 30_000]) {
      const w = world(["feed"], 2);
      run(w, 0, 1_800_000, (_, now) => (Math.floor(now / periodMs) % 2 === 0 ? { weur: 100 } : { apac: 100 }) as PerLocation);
      expect(w.moves, `alternating every ${periodMs} ms`).toEqual([]);
    }
    // From a third location the group moves once, to one of the two, and stays there.
    const w = world(["feed"], 1);
    run(w, 0, 1_800_000, (_, now) => (Math.floor(now / 10_000) % 2 === 0 ? { weur: 100 } : { apac: 100 }) as PerLocation);
    expect(w.moves.length).toBe(1);
  });

  it("follows traffic that moved for good, no sooner than the minimum time between transfers", () => {
    const w = world(["shop"]);
    run(w, 0, 300_000, () => ({ weur: 100 }));
    expect(w.leaders.get("shop")!.leader).toBe(2);
    run(w, 301_000, 900_000, () => ({ apac: 100 }));
    expect(w.leaders.get("shop")!.leader).toBe(3);
    expect(w.moves.length).toBe(2);
    // With counts that fade in seconds the minimum time between transfers is what holds the second move back.
    const fast = world(["shop"], 1, { ...defaultLeaderBalanceRules, halfLifeMs: 3_000 });
    run(fast, 0, 20_000, () => ({ weur: 100 }));
    run(fast, 21_000, 200_000, () => ({ apac: 100 }));
    expect(fast.moves.map((move) => move.to)).toEqual([2, 3]);
    expect(fast.moves[1]!.atMs - fast.moves[0]!.atMs).toBeGreaterThanOrEqual(defaultLeaderBalanceRules.transferIntervalMinMs);
    expect(fast.moves[1]!.atMs - fast.moves[0]!.atMs).toBeLessThan(defaultLeaderBalanceRules.transferIntervalMinMs + 2 * defaultLeaderBalanceRules.passIntervalMs);
  });

  it("leaves idle groups alone and needs no pass once nothing reports", () => {
    const groups = ["busy", "idle-a", "idle-b", "idle-c"];
    const w = world(groups);
    // The idle groups reported once, long ago; now only "busy" has traffic, all four led in wnam.
    for (const group of groups) w.balance.note({ group, leader: 1, term: 2, requests: { wnam: 1 } }, 0);
    run(w, 200_000, 400_000, (group) => (group === "busy" ? { wnam: 10, weur: 10, apac: 10 } : undefined));
    expect(w.moves.map((move) => move.group)).toEqual(["busy"]);
    // One pass after the last report finds nothing new to decide; then none is due (the metadata group may sleep).
    run(w, 401_000, 401_000 + 2 * defaultLeaderBalanceRules.passIntervalMs, () => undefined);
    expect(w.balance.nextPassAtMs(421_000)).toBeNull();
    expect(w.balance.nextPassAtMs(10_000_000)).toBeNull();
  });

  it("ignores a report from a deposed leader and forgets removed groups", () => {
    const balance = new LeaderBalance();
    balance.note({ group: "g", leader: 2, term: 5, requests: { weur: 50 } }, 0);
    balance.note({ group: "g", leader: 1, term: 4, requests: { wnam: 500 } }, 1_000);
    expect(balance.leaderOf("g")).toBe(2);
    expect(balance.plan(2_000, () => undefined)).toEqual([]);
    expect(balance.leaderOf("g")).toBeUndefined();
  });

  it("advises the best replica for an operator's {}: where traffic comes from, else the most even spread", () => {
    const balance = new LeaderBalance();
    const placed = () => replicas;
    balance.note({ group: "a", leader: 1, term: 2, requests: { weur: 100 } }, 0);
    expect(balance.advise("a", replicas, 1, 1_000, placed)).toBe(2);
    for (const group of ["b", "c"]) balance.note({ group, leader: 1, term: 2, requests: {} }, 0);
    expect(balance.advise("d", replicas, 1, 1_000, placed)).toBe(2); // wnam holds a, b, c and d: weur (first of the least loaded) evens it
    expect(balance.advise("d", replicas, 3, 1_000, placed)).toBe(3); // already where it evens leaderships
  });
});
