/**
 * Proves that the simulator's safety checker can fail: each test plants one violation (diverging
 * logs, two entries applied at one index, two leaders in a term, a commit that goes back, a leader
 * missing a committed entry, ...) by feeding the checker hand-made observations, and expects a
 * SafetyViolation; consistent observations of the same shape must pass.
 */
import { describe, expect, it } from "vitest";
import type { ConfState, Entry, Index, NodeId, Role, Term } from "../../src/raft/types.ts";
import { SafetyChecker, SafetyViolation, type LogView, type ReplicaView } from "./invariants.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function entry(index: Index, term: Term, text: string): Entry {
  return { index, term, type: "normal", data: bytes(text) };
}

/** A log made of (term, text) pairs from index first on, the rest compacted into a snapshot. */
function log(first: Index, terms: Term[], snapshotTerm: Term = 0): LogView & { entries: Entry[] } {
  const entries = terms.map((term, offset) => entry(first + offset, term, `${first + offset}/${term}`));
  return {
    entries,
    firstIndex: () => first,
    lastIndex: () => first + terms.length - 1,
    term: (index) => (index === first - 1 ? snapshotTerm : (terms[index - first] ?? null)),
  };
}

function view(id: NodeId, fields: Partial<ReplicaView> & { log: LogView }): ReplicaView {
  const role: Role = fields.role ?? "follower";
  return { id, role, term: 1, vote: 0, commit: 0, applied: 0, hostApplied: fields.applied ?? 0, ...fields };
}

const voters = (...ids: NodeId[]): ConfState => ({ voters: ids, votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false });

describe("log matching", () => {
  it("accepts the same entry at the same position on two replicas", () => {
    const checker = new SafetyChecker();
    const a = log(1, [1, 1, 2]);
    checker.observeEntries(1, a.entries, a);
    checker.observeEntries(2, a.entries, a);
  });

  it("fails when two logs hold different data at the same index and term", () => {
    const checker = new SafetyChecker();
    const a = log(1, [1, 1]);
    checker.observeEntries(1, a.entries, a);
    expect(() => checker.observeEntries(2, [entry(2, 1, "something else")], a)).toThrow(SafetyViolation);
  });

  it("fails when the same entry follows different terms on two replicas", () => {
    const checker = new SafetyChecker();
    const a = log(1, [1, 2, 3]);
    const b = log(1, [1, 1, 3]);
    checker.observeEntries(1, a.entries, a);
    expect(() => checker.observeEntries(2, [a.entries[2]!], b)).toThrow(/log matching/);
  });
});

describe("state machine safety", () => {
  it("fails when two replicas apply different entries at one index", () => {
    const checker = new SafetyChecker();
    checker.observeApplied(1, entry(1, 1, "x"));
    checker.observeApplied(2, entry(1, 1, "x"));
    expect(() => checker.observeApplied(3, entry(1, 1, "y"))).toThrow(/state machine safety/);
    expect(() => checker.observeApplied(4, entry(1, 2, "x"))).toThrow(/state machine safety/);
  });

  it("fails when a replica skips an index or restores a snapshot behind what it applied", () => {
    const checker = new SafetyChecker();
    checker.observeApplied(1, entry(1, 1, "a"));
    expect(() => checker.observeApplied(1, entry(3, 1, "c"))).toThrow(/apply order/);
    const other = new SafetyChecker();
    other.observeStarted(1, 0);
    other.observeRestored(1, 5);
    expect(() => other.observeRestored(1, 5)).toThrow(/apply order/);
  });

  it("fails when replicas run different configurations after the same entry", () => {
    const checker = new SafetyChecker();
    const change: Entry = { index: 1, term: 1, type: "confChange", data: bytes("[]") };
    checker.observeApplied(1, change, voters(1, 2, 3));
    expect(() => checker.observeApplied(2, change, voters(1, 2))).toThrow(/configuration safety/);
  });

  it("fails when two replicas encode different states at one index", () => {
    const checker = new SafetyChecker();
    checker.observeSnapshot(1, 10, bytes("state A"));
    checker.observeSnapshot(2, 10, bytes("state A"));
    expect(() => checker.observeSnapshot(3, 10, bytes("state B"))).toThrow(/differs/);
  });
});

describe("election safety and durable state", () => {
  it("fails when two replicas lead the same term", () => {
    const checker = new SafetyChecker();
    const a = log(1, [1]);
    checker.checkReplica(view(1, { role: "leader", term: 2, log: a }));
    checker.checkReplica(view(2, { role: "leader", term: 3, log: a }));
    expect(() => checker.checkReplica(view(3, { role: "leader", term: 2, log: a }))).toThrow(/election safety/);
  });

  it("fails when a replica votes twice in a term or its term goes back", () => {
    const checker = new SafetyChecker();
    const a = log(1, [1]);
    checker.checkReplica(view(1, { term: 4, vote: 2, log: a }));
    expect(() => checker.checkReplica(view(1, { term: 4, vote: 3, log: a }))).toThrow(/voted/);
    const other = new SafetyChecker();
    other.checkReplica(view(1, { term: 4, log: a }));
    expect(() => other.checkReplica(view(1, { term: 3, log: a }))).toThrow(/term went back/);
  });

  it("fails when commit goes back, including across a restart", () => {
    const checker = new SafetyChecker();
    const a = log(1, [1, 1, 1]);
    checker.checkReplica(view(1, { commit: 3, log: a }));
    checker.observeDown(1);
    checker.observeStarted(1, 0);
    expect(() => checker.checkReplica(view(1, { commit: 2, log: a }))).toThrow(/commit went back/);
  });

  it("fails when a replica applies beyond its commit or the state machine disagrees with the engine", () => {
    const checker = new SafetyChecker();
    const a = log(1, [1, 1, 1]);
    expect(() => checker.checkReplica(view(1, { commit: 2, applied: 3, log: a }))).toThrow(/beyond its commit/);
    expect(() => checker.checkReplica(view(2, { commit: 3, applied: 2, hostApplied: 1, log: a }))).toThrow(/state machine 1/);
  });

  it("fails when two replicas commit different entries at one index", () => {
    const checker = new SafetyChecker();
    checker.checkReplica(view(1, { term: 2, commit: 2, log: log(1, [1, 2]) }));
    expect(() => checker.checkReplica(view(2, { term: 3, commit: 2, log: log(1, [1, 3]) }))).toThrow(/commit safety/);
  });
});

describe("leader completeness", () => {
  it("fails when a leader of a later term lacks an entry committed earlier", () => {
    const checker = new SafetyChecker();
    checker.checkReplica(view(1, { role: "leader", term: 2, commit: 3, log: log(1, [1, 2, 2]) }));
    expect(() => checker.checkReplica(view(2, { role: "leader", term: 3, log: log(1, [1, 2]) }))).toThrow(/leader completeness/);
  });

  it("fails when an entry is committed in an earlier term after a later leader took over without it", () => {
    const checker = new SafetyChecker();
    checker.checkReplica(view(2, { role: "leader", term: 5, log: log(1, [1, 3, 5]) }));
    expect(() => checker.checkReplica(view(1, { term: 4, commit: 3, log: log(1, [1, 3, 4]) }))).toThrow(/leader completeness/);
  });

  it("accepts a leader whose snapshot covers the committed entries", () => {
    const checker = new SafetyChecker();
    checker.checkReplica(view(1, { role: "leader", term: 2, commit: 3, log: log(1, [1, 2, 2]) }));
    checker.checkReplica(view(2, { role: "leader", term: 3, log: log(4, [3], 2) }));
  });
});
