/**
 * Proves GET /v1/health's aggregate: groups are counted as with a leader, healthy, lagging (a
 * reachable replica more than the limit behind its leader's commit) and quiesced; every
 * leaderless, quorum-less group and every lagging replica is a reason; the cluster is healthy
 * exactly when there is no reason; a replica its leader sees behind for longer than the limit in
 * seconds lags too; and the route answers 503 with the reasons, honours `?lagEntries=` and
 * `?lagSeconds=` and refuses malformed ones with 400 badQuery.
 */
import { describe, expect, it } from "vitest";
import type { GroupHealth } from "../../src/router/cluster.ts";
import { summarizeHealth } from "../../src/router/health-summary.ts";
import { jsonOf, setup } from "./harness.ts";

function group(name: string, leader: number, healthy: boolean, applied: readonly number[], options: { quiesced?: boolean; unreachable?: number } = {}): GroupHealth {
  const commit = Math.max(...applied);
  return {
    name, leader, term: 3, healthy,
    replicas: applied.map((index, position) => {
      const id = position + 1;
      if (id === options.unreachable) return { id, reachable: false };
      return { id, reachable: true, role: id === leader ? "leader" : "follower", commit: id === leader ? commit : index, applied: index, quiesced: options.quiesced === true };
    }),
  };
}

describe("the health summary", () => {
  it("counts groups by state and is healthy when nothing lags and every group has a leader and quorum", () => {
    const summary = summarizeHealth([group("default", 1, true, [50, 50, 49], { quiesced: true }), group("orders", 2, true, [10, 10, 10])], 5);
    expect(summary).toMatchObject({ healthy: true, lagEntriesMax: 5, reasons: [], counts: { total: 2, withLeader: 2, healthy: 2, lagging: 0, quiesced: 1 } });
  });

  it("names each lagging replica (past the limit only), each leaderless and each quorum-less group", () => {
    const groups = [
      group("default", 1, true, [100, 40, 95]),
      group("orders", 0, false, [7, 7, 7]),
      group("users", 3, false, [5, 5, 5], { unreachable: 1 }),
    ];
    const summary = summarizeHealth(groups, 5);
    expect(summary.healthy).toBe(false);
    expect(summary.counts).toEqual({ total: 3, withLeader: 2, healthy: 1, lagging: 1, quiesced: 0 });
    expect(summary.reasons.map((reason) => [reason.code, reason.group, reason.replica, reason.behind])).toEqual([
      ["lagging", "default", 2, 60], ["noLeader", "orders", undefined, undefined], ["noQuorum", "users", undefined, undefined],
    ]);
    expect(summary.reasons[0]!.detail).toBe("group default: replica 2 is 60 entries behind its leader (more than 5)");
    expect(summarizeHealth([groups[0]!], 60).healthy).toBe(true);
    expect(summarizeHealth([groups[0]!], 59).counts.lagging).toBe(1);
  });

  it("counts a replica behind its leader for longer than the limit in seconds as lagging, with both figures", () => {
    const slow = group("default", 1, true, [100, 98, 100]);
    const withSeconds: GroupHealth = { ...slow, replicas: slow.replicas.map((replica) => ({ ...replica, lagSeconds: replica.id === 2 ? 12.5 : 0 })) };
    expect(summarizeHealth([withSeconds], 5, 20).healthy).toBe(true);
    const summary = summarizeHealth([withSeconds], 5, 10);
    expect(summary).toMatchObject({ healthy: false, lagEntriesMax: 5, lagSecondsMax: 10, counts: { lagging: 1 } });
    expect(summary.reasons).toEqual([{ code: "lagging", group: "default", replica: 2, behind: 2, lagSeconds: 12.5, detail: "group default: replica 2 is behind its leader for 12.5 s (more than 10 s)" }]);
    expect(summarizeHealth([withSeconds], 1, 10).reasons[0]!.detail).toBe("group default: replica 2 is 2 entries behind its leader (more than 1), and behind its leader for 12.5 s (more than 10 s)");
    expect(summarizeHealth([withSeconds], 5).lagSecondsMax).toBe(30);
  });

  it("does not count unreachable replicas as lagging nor a group with no reachable replica as quiesced", () => {
    const summary = summarizeHealth([group("default", 1, true, [9, 0, 9], { unreachable: 2, quiesced: true }), group("gone", 1, false, [1], { unreachable: 1 })], 0);
    expect(summary.counts).toMatchObject({ lagging: 0, quiesced: 1 });
  });
});

describe("GET /v1/health", () => {
  it("answers the counts and reasons, 503 when unhealthy, and validates lagEntries", async () => {
    const { send, cluster } = setup();
    const healthy = await send("GET", "/v1/health?lagEntries=3");
    expect(healthy.status).toBe(200);
    expect(await jsonOf(healthy)).toMatchObject({ healthy: true, lagEntriesMax: 3, reasons: [], counts: { total: 1, withLeader: 1, healthy: 1 } });
    expect((await jsonOf(await send("GET", "/v1/health"))).lagEntriesMax).toBe(1000);
    cluster.healthy = false;
    const unhealthy = await send("GET", "/v1/health");
    expect(unhealthy.status).toBe(503);
    expect((await jsonOf(unhealthy)).reasons).toEqual([expect.objectContaining({ code: "noQuorum", group: "default" })]);
    for (const bad of ["-1", "x", "1.5", "1234567890"]) {
      const refused = await send("GET", `/v1/health?lagEntries=${bad}`);
      expect(refused.status).toBe(400);
      expect((await jsonOf(refused)).code).toBe("badQuery");
    }
    for (const bad of ["-1", "x", "0.5", "1234567", "1&lagSeconds=2"]) {
      const refused = await send("GET", `/v1/health?lagSeconds=${bad}`);
      expect(refused.status, bad).toBe(400);
      expect((await jsonOf(refused)).code).toBe("badQuery");
    }
    expect((await jsonOf(await send("GET", "/v1/health?lagSeconds=7"))).lagSecondsMax).toBe(7);
  });
});
