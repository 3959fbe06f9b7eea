/**
 * Proves the leader placement score (multiraft/leader-placement.ts): request origins map to the
 * nearest locationHint; a replica scores higher where the group's requests come from, where its
 * location carries less load and fewer leaderships; a move needs a clear margin; and, as
 * properties over random inputs (fast-check), a choice never names a non-replica or the leader,
 * a move is never followed by the move straight back, and 90% of the traffic from one region
 * always wins that region the leadership.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chooseLeader, locationOfOrigin, scoreReplicas, type LeaderPlacementInput, type PerLocation } from "../../src/multiraft/leader-placement.ts";

const replicas = [{ id: 1, location: "wnam" }, { id: 2, location: "weur" }, { id: 3, location: "apac" }];
const input = (fields: Partial<LeaderPlacementInput> = {}): LeaderPlacementInput => ({
  replicas, leader: 1, requests: {}, leaderships: { wnam: 1 }, load: {}, groupLoad: 0, ...fields,
});

describe("where requests come from", () => {
  it("maps request.cf location data to the nearest locationHint", () => {
    expect(locationOfOrigin({ continent: "NA", country: "US", longitude: "-122.4" })).toBe("wnam");
    expect(locationOfOrigin({ continent: "NA", country: "US", longitude: "-97.7" })).toBe("enam");
    expect(locationOfOrigin({ continent: "EU", country: "GB", longitude: "-0.1" })).toBe("weur");
    expect(locationOfOrigin({ continent: "EU", country: "PL" })).toBe("eeur");
    expect(locationOfOrigin({ continent: "AS", country: "JP" })).toBe("apac");
    expect(locationOfOrigin({ continent: "AS", country: "AE" })).toBe("me");
    expect(locationOfOrigin({ continent: "SA" })).toBe("sam");
    expect(locationOfOrigin({ continent: "OC" })).toBe("oc");
    expect(locationOfOrigin({ continent: "AF" })).toBe("afr");
    expect(locationOfOrigin({})).toBeUndefined();
    expect(locationOfOrigin({ continent: 7 })).toBeUndefined();
  });
});

describe("the score of each replica", () => {
  it("prefers the location most requests come from, and a near one over a far one", () => {
    const scores = scoreReplicas(input({ requests: { weur: 80, enam: 20 } }));
    expect(scores.map((score) => score.locality)).toEqual([0.1, 0.8, 0]);
    expect(scores[1]!.score).toBeGreaterThan(scores[0]!.score);
    expect(scores[0]!.score).toBeGreaterThan(scores[2]!.score);
  });

  it("gives no locality preference for too few requests", () => {
    expect(scoreReplicas(input({ requests: { weur: 5 } })).map((score) => score.locality)).toEqual([0, 0, 0]);
  });

  it("prefers lower load and fewer leaderships at equal locality", () => {
    const busyEurope = scoreReplicas(input({ requests: { weur: 50, apac: 50 }, leader: 2, leaderships: { weur: 1, apac: 1 }, load: { weur: 900, apac: 10 }, groupLoad: 5 }));
    expect(busyEurope[2]!.score).toBeGreaterThan(busyEurope[1]!.score);
    const crowdedEurope = scoreReplicas(input({ requests: { weur: 50, apac: 50 }, leader: 2, leaderships: { weur: 9, apac: 1 } }));
    expect(crowdedEurope[2]!.score).toBeGreaterThan(crowdedEurope[1]!.score);
  });

  it("counts this group where each replica is, so where it leads now does not change any score", () => {
    const atWnam = scoreReplicas(input({ requests: { weur: 30 }, leader: 1, leaderships: { wnam: 3, weur: 1 }, load: { wnam: 12, weur: 4 }, groupLoad: 2 }));
    const atWeur = scoreReplicas(input({ requests: { weur: 30 }, leader: 2, leaderships: { wnam: 2, weur: 2 }, load: { wnam: 10, weur: 6 }, groupLoad: 2 }));
    expect(atWeur).toEqual(atWnam);
  });
});

describe("the choice", () => {
  it("moves the leader to where most requests come from", () => {
    expect(chooseLeader(input({ requests: { apac: 90, wnam: 10 } }))).toMatchObject({ kind: "transfer", to: 3, reason: "score" });
  });

  it("keeps it without a clear margin", () => {
    expect(chooseLeader(input({ requests: { weur: 55, wnam: 45 } }))).toMatchObject({ kind: "stay" });
  });

  it("spreads leaderships when traffic gives no preference, only when a location holds two more", () => {
    expect(chooseLeader(input({ leaderships: { wnam: 3, weur: 1, apac: 2 } }))).toMatchObject({ kind: "transfer", to: 2, reason: "spread" });
    expect(chooseLeader(input({ leaderships: { wnam: 2, weur: 1, apac: 1 } }))).toMatchObject({ kind: "stay" });
    expect(chooseLeader(input({ leaderships: { wnam: 1 } }))).toMatchObject({ kind: "stay" });
  });

  it("does not spread away from the location the traffic comes from", () => {
    expect(chooseLeader(input({ requests: { wnam: 100 }, leaderships: { wnam: 9 } }))).toMatchObject({ kind: "stay" });
  });

  it("with force (an operator's {}) moves to any better replica, and stays when none is", () => {
    expect(chooseLeader(input({ leaderships: { wnam: 2, weur: 1, apac: 1 } }), undefined, { force: true })).toMatchObject({ kind: "stay" });
    expect(chooseLeader(input({ requests: { weur: 55, wnam: 45 } }), undefined, { force: true })).toMatchObject({ kind: "transfer", to: 2 });
  });
});

const locations = ["wnam", "enam", "weur", "eeur", "apac", "oc"];
const counts = (max: number) => fc.dictionary(fc.constantFrom(...locations), fc.integer({ min: 0, max }), { maxKeys: locations.length }) as fc.Arbitrary<PerLocation>;
const groupInput = fc.record({
  replicas: fc.uniqueArray(fc.constantFrom(...locations), { minLength: 1, maxLength: 5 }).map((places) => places.map((location, index) => ({ id: index + 1, location }))),
  leaderIndex: fc.nat(),
  requests: counts(1_000),
  others: counts(20),
  otherLoad: counts(500),
  groupLoad: fc.integer({ min: 0, max: 100 }),
}).map(({ replicas, leaderIndex, requests, others, otherLoad, groupLoad }): LeaderPlacementInput => {
  const leader = replicas[leaderIndex % replicas.length]!;
  const leaderships = { ...others, [leader.location]: (others[leader.location] ?? 0) + 1 };
  const load = { ...otherLoad, [leader.location]: (otherLoad[leader.location] ?? 0) + groupLoad };
  return { replicas, leader: leader.id, requests, leaderships, load, groupLoad };
});

/** The input as it is after the move: this group's leadership and load went with it. */
function moved(before: LeaderPlacementInput, to: number): LeaderPlacementInput {
  const from = before.replicas.find((replica) => replica.id === before.leader)!.location;
  const target = before.replicas.find((replica) => replica.id === to)!.location;
  const shift = (values: PerLocation, amount: number) => ({ ...values, [from]: (values[from] ?? 0) - amount, [target]: (values[target] ?? 0) + amount }); // locations are unique per group
  return { ...before, leader: to, leaderships: shift(before.leaderships, 1), load: shift(before.load, before.groupLoad) };
}

describe("properties", () => {
  it("a transfer names another replica of the group", () => {
    fc.assert(fc.property(groupInput, (group) => {
      const choice = chooseLeader(group);
      if (choice.kind === "transfer") {
        expect(choice.to).not.toBe(group.leader);
        expect(group.replicas.map((replica) => replica.id)).toContain(choice.to);
      }
    }), { numRuns: 2_000 });
  });

  it("a move is never followed by the move straight back", () => {
    fc.assert(fc.property(groupInput, (group) => {
      const choice = chooseLeader(group);
      if (choice.kind !== "transfer") return;
      const after = chooseLeader(moved(group, choice.to));
      expect(after.kind === "transfer" ? after.to : undefined).not.toBe(group.leader);
    }), { numRuns: 3_000 });
  });

  it("90% of the requests from one replica's region give that replica the leadership", () => {
    const regions = fc.shuffledSubarray(["wnam", "weur", "apac"], { minLength: 3, maxLength: 3 });
    fc.assert(fc.property(regions, fc.nat(2), fc.integer({ min: 200, max: 5_000 }), counts(20), counts(500), (places, hot, requests, others, load) => {
      const threeRegions = places.map((location, index) => ({ id: index + 1, location }));
      const target = threeRegions[hot]!;
      const leader = threeRegions[(hot + 1) % 3]!;
      const rest = threeRegions[(hot + 2) % 3]!;
      const group = { replicas: threeRegions, leader: leader.id, requests: { [target.location]: requests * 0.9, [rest.location]: requests * 0.1 },
        leaderships: { ...others, [leader.location]: (others[leader.location] ?? 0) + 1 }, load, groupLoad: 0 };
      expect(chooseLeader(group)).toMatchObject({ kind: "transfer", to: target.id, reason: "score" });
    }), { numRuns: 1_000 });
  });
});
