/**
 * Proves that GET /v1/health's view from the replicas' last reports agrees with the view from
 * their answers: the newest term's leader, healthy only with a majority naming it, a replica with
 * no report (or a retired one) unreachable, lag as the leader last saw it, each report's age; and
 * that only quiet groups are read from the reports: a group with a replica that did not report, or
 * last reported itself busy, is asked directly (and every group when the reports cannot be read);
 * and that GET /v1/groups/{name}'s inspection follows the same rule, with the transaction counts of
 * the quiet leader's report.
 */
import { describe, expect, it } from "vitest";
import type { GroupHealth } from "../../src/router/cluster.ts";
import type { ReplicaReportView } from "../../src/router/metrics/replica-stats.ts";
import { groupHealthOfReports, healthOfReports, quietInspectionOfReports } from "../../src/router/metrics/report-health.ts";

const group = { name: "orders", epoch: 1, replicas: [1, 2, 3].map((id) => ({ id, location: "wnam" })) };

function report(replica: number, fields: { role: string; term: number; leader: number; applied?: number; atMs?: number; retired?: boolean; quiesced?: boolean; followerLagMs?: Record<string, number>; txnIntents?: number }): ReplicaReportView {
  const applied = fields.applied ?? 10;
  const txns = fields.txnIntents === undefined ? {} : { txnIntents: fields.txnIntents, txnRecords: 1 };
  return {
    group: "orders", replica, location: "wnam", retired: fields.retired ?? false, atMs: fields.atMs ?? 1_000,
    status: { role: fields.role, term: fields.term, leader: fields.leader, commit: applied, applied, firstIndex: 1, lastIndex: applied, quiesced: fields.quiesced ?? true, conf: { voters: [1, 2, 3], learners: [] }, ...(fields.followerLagMs === undefined ? {} : { followerLagMs: fields.followerLagMs }), ...txns },
  };
}
const keyed = (reports: ReplicaReportView[]) => new Map(reports.map((entry) => [`${entry.group}/${entry.replica}`, entry]));

describe("health from reports", () => {
  it("names the leader of the newest term, healthy when a majority names it, with each report's age", () => {
    const health = groupHealthOfReports(group, keyed([
      report(1, { role: "leader", term: 4, leader: 1, followerLagMs: { 2: 0, 3: 2_500 } }),
      report(2, { role: "follower", term: 4, leader: 1, atMs: 3_000 }),
      report(3, { role: "leader", term: 3, leader: 3 }), // a stale leader of an older term
    ]), 5_000)!;
    expect({ leader: health.leader, term: health.term, healthy: health.healthy }).toEqual({ leader: 1, term: 4, healthy: true });
    expect(health.replicas.map((replica) => [replica.id, replica.lagSeconds, replica.reportAgeSeconds])).toEqual([[1, 0, 4], [2, 0, 2], [3, 2.5, 4]]);
    expect(health.replicas[0]).toMatchObject({ reachable: true, role: "leader", quiesced: true, voters: [1, 2, 3], learners: [] });
  });

  it("counts a replica with no report or a retired one as unreachable, and a leader named by a minority as unhealthy", () => {
    const health = groupHealthOfReports(group, keyed([
      report(1, { role: "leader", term: 2, leader: 1 }),
      report(2, { role: "follower", term: 2, leader: 1, retired: true }),
    ]), 1_000)!;
    expect(health.replicas.map((replica) => replica.reachable)).toEqual([true, false, false]);
    expect({ leader: health.leader, healthy: health.healthy }).toEqual({ leader: 1, healthy: false });
  });

  it("knows nothing of a group no replica reported for", () => {
    expect(groupHealthOfReports(group, keyed([{ ...report(1, { role: "leader", term: 2, leader: 1 }), group: "other" }]), 1_000)).toBeUndefined();
  });

  it("reads quiet groups from the reports and asks the others, and every group when the reports cannot be read", async () => {
    const other = { ...group, name: "fresh" };
    const busy = { ...group, name: "busy" };
    const partly = { ...group, name: "partly" };
    const asked: string[] = [];
    const ask = async (descriptor: typeof group): Promise<GroupHealth> => {
      asked.push(descriptor.name);
      return { name: descriptor.name, leader: 2, term: 7, healthy: true, replicas: [] };
    };
    const quiet = [1, 2, 3].map((id) => report(id, { role: id === 1 ? "leader" : "follower", term: 4, leader: 1 }));
    const reports = [
      ...quiet,
      ...quiet.map((entry) => ({ ...entry, group: "busy", status: { ...entry.status, quiesced: entry.replica !== 2 } })),
      ...quiet.slice(0, 2).map((entry) => ({ ...entry, group: "partly" })),
    ];
    const list = async () => ({ ok: true as const, value: [group, other, busy, partly] });
    const read = await healthOfReports({ list, read: async () => reports, ask, nowMs: () => 2_000 })();
    expect(read.ok && read.value.groups.map((entry) => [entry.name, entry.leader, entry.term])).toEqual([["orders", 1, 4], ["fresh", 2, 7], ["busy", 2, 7], ["partly", 2, 7]]);
    expect(asked).toEqual(["fresh", "busy", "partly"]);
    asked.length = 0;
    const unreadable = await healthOfReports({ list, read: async () => { throw new Error("down"); }, ask, nowMs: () => 2_000 })();
    expect(unreadable.ok && unreadable.value.healthy).toBe(true);
    expect(asked).toEqual(["orders", "fresh", "busy", "partly"]);
  });

  it("inspects a quiet group from the reports, with its leader's transaction counts, and leaves any other to be asked", async () => {
    const quiet = [1, 2, 3].map((id) => report(id, id === 2 ? { role: "leader", term: 5, leader: 2, txnIntents: 3 } : { role: "follower", term: 5, leader: 2, txnIntents: 9 }));
    const inspect = (reports: () => Promise<ReplicaReportView[]>) => quietInspectionOfReports({ read: reports, nowMs: () => 3_000 })(group);
    const inspected = await inspect(async () => quiet);
    expect(inspected?.health).toEqual(groupHealthOfReports(group, keyed(quiet), 3_000));
    expect(inspected?.health).toMatchObject({ leader: 2, term: 5, healthy: true });
    expect(inspected?.transactions).toEqual({ intents: 3, records: 1, replica: 2 });
    expect((await inspect(async () => quiet.map((entry) => ({ ...entry, status: { ...entry.status, txnIntents: undefined } }))))?.transactions).toBeUndefined();
    const busy = quiet.map((entry) => ({ ...entry, status: { ...entry.status, quiesced: entry.replica !== 3 } }));
    expect(await inspect(async () => busy)).toBeUndefined();
    expect(await inspect(async () => quiet.slice(0, 2))).toBeUndefined();
    expect(await inspect(async () => quiet.map((entry) => (entry.replica === 1 ? { ...entry, retired: true } : entry)))).toBeUndefined();
    expect(await inspect(async () => { throw new Error("down"); })).toBeUndefined();
  });
});
