/**
 * Proves when a replica reports to the stats aggregate: at once when its role, term, leader or
 * quiesced state changes; for progress alone (commit, applied, counters) at most once per
 * interval; and never when nothing changed, so a quiet replica sends nothing after its last report.
 */
import { describe, expect, it } from "vitest";
import { StatsReporter, statsReportIntervalMs, type ReplicaReport } from "../../src/hosts/common/stats-reporter.ts";

describe("StatsReporter", () => {
  it("reports shape changes at once, progress on a coarse clock, and nothing when idle", () => {
    let now = 10_000;
    const state = { role: "follower", term: 1, leader: 0, commit: 0, applied: 0, quiesced: false };
    const sent: ReplicaReport[] = [];
    const reporter = new StatsReporter({
      shape: () => `${state.role} ${state.term} ${state.leader} ${state.quiesced}`,
      take: () => ({ group: "g", replica: 1, location: "wnam", retired: false, status: { ...state, firstIndex: 1, lastIndex: state.commit }, traffic: {} }),
      send: (report) => sent.push(report),
      nowMs: () => now,
    });
    reporter.maybeReport();
    expect(sent.length).toBe(1);
    state.role = "leader"; state.term = 2; state.leader = 1;
    now += 10;
    reporter.maybeReport();
    expect(sent.map((report) => report.status.role)).toEqual(["follower", "leader"]);
    state.commit = 5; state.applied = 5;
    now += 10;
    reporter.maybeReport(); // progress within the interval: not yet
    expect(sent.length).toBe(2);
    now += statsReportIntervalMs;
    reporter.maybeReport();
    expect(sent.length).toBe(3);
    expect(sent[2]).toMatchObject({ atMs: now, status: { commit: 5 } });
    now += 10 * statsReportIntervalMs;
    reporter.maybeReport(); // nothing changed
    expect(sent.length).toBe(3);
    state.quiesced = true;
    reporter.maybeReport();
    expect(sent.at(-1)?.status.quiesced).toBe(true);
    expect(sent.length).toBe(4);
  });
});
