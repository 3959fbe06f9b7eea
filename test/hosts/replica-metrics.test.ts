/**
 * Proves ReplicaMetrics counts what GET /metrics reports: commit and apply latency observed once
 * per proposal (also when commit and apply happen in one driver pass), commands counted apart from
 * no-ops, replicated bytes and snapshots started from the messages sent, and elections and leader
 * changes from role changes (the same leader at a new term is a change too), a start resumed from a
 * quiet note as a resume (neither an election won nor a leader change); and the notable ones
 * (election won, leader change, leader resumed, snapshot sent and installed) reach its listener, for the logs.
 */
import { describe, expect, it } from "vitest";
import { ReplicaMetrics } from "../../src/hosts/common/replica-metrics.ts";
import type { Message } from "../../src/raft/types.ts";

function message(fields: Partial<Message>): Message {
  return {
    type: "app", from: 1, to: 2, term: 1, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0,
    context: "", snapshot: null, quiesce: false, transfer: false, lease: false, ...fields,
  };
}

describe("ReplicaMetrics", () => {
  it("observes commit and apply latency once per proposal", () => {
    let now = 1_000;
    const metrics = new ReplicaMetrics(() => now);
    metrics.softState("leader", 1, 1);
    metrics.proposed(5);
    metrics.proposed(6);
    now += 20;
    metrics.committed(5);
    now += 30;
    metrics.applied(5, true);
    metrics.applied(6, true); // committed and applied in one pass
    metrics.applied(7, false); // a no-op nobody proposed here
    metrics.committed(6);
    const report = metrics.report();
    expect(report.commandsApplied).toBe(2);
    expect(report.commitLatency.count).toBe(2);
    expect(report.commitLatency.sum).toBeCloseTo(0.02 + 0.05);
    expect(report.applyLatency.count).toBe(2);
    expect(report.applyLatency.sum).toBeCloseTo(0.05 + 0.05);
    expect(report.applyLatency.bucketCounts.reduce((sum, count) => sum + count, 0)).toBe(2);
  });

  it("counts replicated bytes, snapshots sent, elections and leader changes", () => {
    const events: string[] = [];
    const metrics = new ReplicaMetrics(() => 0, (event, fields) => events.push(`${event} ${JSON.stringify(fields)}`));
    const entry = { term: 1, index: 1, type: "normal" as const, data: new Uint8Array(100) };
    metrics.sending([message({ entries: [entry, { ...entry, index: 2 }] }), message({ type: "heartbeat" })]);
    const chunk = (offset: number) => ({ meta: { index: 9, term: 1, conf: { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, offset, totalBytes: 8192, data: new Uint8Array(0) }) as unknown as Message["snapshot"];
    metrics.sending([message({ type: "snap", snapshot: chunk(0) }), message({ type: "snap", snapshot: chunk(4096) })]);
    metrics.softState("preCandidate", 0, 1);
    metrics.softState("candidate", 0, 2);
    metrics.softState("leader", 1, 2);
    metrics.softState("follower", 2, 3);
    metrics.softState("follower", 2, 4); // the same leader, re-elected at a new term
    metrics.softState("follower", 2, 4); // nothing new
    metrics.alarmFired();
    metrics.snapshotInstalled(12);
    const report = metrics.report();
    expect(events).toEqual([
      'snapshotSent {"to":2,"index":9,"bytes":8192}', "electionWon {}", 'leaderChanged {"leader":1,"previousLeader":0}',
      'leaderChanged {"leader":2,"previousLeader":1}', 'leaderChanged {"leader":2,"previousLeader":2}', 'snapshotInstalled {"index":12}',
    ]);
    expect(report.snapshotsInstalled).toBe(1);
    expect(report.bytesReplicated).toBe(200);
    expect(report.snapshotsSent).toBe(1);
    expect(report.electionsStarted).toBe(1);
    expect(report.electionsWon).toBe(1);
    expect(report.leaderChanges).toBe(3);
    expect(report.alarmsFired).toBe(1);
  });

  it("counts a start resumed from a quiet note as a resume, and a later real election as one", () => {
    const events: string[] = [];
    const metrics = new ReplicaMetrics(() => 0, (event, fields) => events.push(`${event} ${JSON.stringify(fields)}`));
    metrics.resumed("leader", 1, 5);
    metrics.softState("leader", 1, 5); // the engine's first soft state: the resumed one
    expect(metrics.report()).toMatchObject({ quietResumes: 1, electionsWon: 0, electionsStarted: 0, leaderChanges: 0 });
    metrics.softState("follower", 2, 6);
    metrics.softState("candidate", 0, 7);
    metrics.softState("leader", 1, 7);
    expect(metrics.report()).toMatchObject({ quietResumes: 1, electionsWon: 1, electionsStarted: 1, leaderChanges: 2 });
    expect(events).toEqual(['leaderResumed {"leader":1,"role":"leader"}', 'leaderChanged {"leader":2,"previousLeader":1}', "electionWon {}", 'leaderChanged {"leader":1,"previousLeader":2}']);
  });
});
