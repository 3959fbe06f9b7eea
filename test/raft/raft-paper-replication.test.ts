/**
 * Proves the log replication and safety claims of the Raft paper (sections 5.3 and 5.4) on an
 * in-memory cluster: commit by majority, Log Matching, conflict repair with fast backtracking,
 * the figure-8 rule, and bounded, pipelined AppendEntries.
 */
import { describe, expect, it } from "vitest";
import { TestCluster } from "../support/cluster.ts";
import { message } from "../../src/raft/raft.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);
const appliedData = (cluster: TestCluster, id: number) => cluster.get(id).applied.map((e) => text(e.data)).filter((t) => t !== "");

describe("log replication (paper 5.3)", () => {
  it("leader commits an entry once a majority stores it, and not before", () => {
    const cluster = new TestCluster({ size: 5 });
    cluster.elect(1);
    cluster.drop = (m) => m.type === "app" && m.to >= 3; // only 1 and 2 store it: 2 of 5
    const before = cluster.get(1).node.status().commit;
    cluster.get(1).node.propose(bytes("a"));
    cluster.deliver();
    expect(cluster.get(1).node.status().commit).toBe(before);
    cluster.drop = (m) => m.type === "app" && m.to >= 4; // now 3 of 5
    cluster.tick(2);
    expect(cluster.get(1).node.status().commit).toBe(before + 1);
    expect(appliedData(cluster, 1)).toEqual(["a"]);
  });

  it("a write costs one append and one answer per follower: the commit index rides on the next append or heartbeat", () => {
    const cluster = new TestCluster({ size: 3, config: { quiesce: false } });
    cluster.elect(1);
    const types: string[] = [];
    cluster.drop = (m) => {
      types.push(`${m.type}:${m.entries.length}`);
      return false;
    };
    cluster.get(1).node.propose(bytes("a"));
    cluster.deliver();
    expect(types.sort()).toEqual(["app:1", "app:1", "appResp:0", "appResp:0"]);
    const commit = cluster.get(1).node.status().commit;
    expect(appliedData(cluster, 1)).toEqual(["a"]);
    expect(cluster.get(2).node.status().commit).toBe(commit - 1);
    cluster.get(1).node.propose(bytes("b"));
    cluster.deliver(); // the next append carries the commit of "a"
    expect(appliedData(cluster, 2)).toEqual(["a"]);
    cluster.tick(1); // and a heartbeat the commit of "b"
    expect(appliedData(cluster, 2)).toEqual(["a", "b"]);
    expect(appliedData(cluster, 3)).toEqual(["a", "b"]);
  });

  it("followers apply committed entries in log order, the same on every replica", () => {
    const cluster = new TestCluster({ size: 3 });
    cluster.elect(1);
    for (let i = 0; i < 50; i++) cluster.get(1 + (i % 3)).node.propose(bytes(`v${i}`)); // followers forward
    cluster.deliver();
    cluster.tick(3);
    const expected = appliedData(cluster, 1);
    expect(expected.length).toBe(50);
    expect(appliedData(cluster, 2)).toEqual(expected);
    expect(appliedData(cluster, 3)).toEqual(expected);
  });

  it("Log Matching: a follower rejects an append whose previous entry does not match", () => {
    const cluster = new TestCluster({ size: 3 });
    cluster.elect(1);
    const term = cluster.get(1).node.status().term;
    const follower = cluster.get(2).node;
    follower.step(message("app", { from: 1, to: 2, term, index: 7, logTerm: term, entries: [] }));
    const response = follower.ready().messages.find((m) => m.type === "appResp");
    follower.advance();
    expect(response?.reject).toBe(true);
    expect(response?.rejectHint).toBe(follower.status().lastIndex); // the leader skips straight there
  });

  it("a leader overwrites a follower's conflicting uncommitted suffix, in few round trips", () => {
    const cluster = new TestCluster({ size: 3, config: { checkQuorum: false, preVote: false } });
    cluster.elect(1);
    cluster.drop = (m) => m.from === 1 || m.to === 1;
    for (let i = 0; i < 200; i++) cluster.get(1).node.propose(bytes(`lost${i}`)); // never replicated
    cluster.deliver();
    cluster.get(2).node.campaign();
    cluster.deliver();
    expect(cluster.get(2).node.status().role).toBe("leader");
    for (let i = 0; i < 5; i++) cluster.get(2).node.propose(bytes(`kept${i}`));
    cluster.deliver();
    cluster.drop = () => false;
    let appendRejects = 0;
    cluster.drop = (m) => {
      if (m.type === "appResp" && m.reject && m.from === 1) appendRejects++;
      return false;
    };
    cluster.tick(3);
    expect(appliedData(cluster, 1)).toEqual(["kept0", "kept1", "kept2", "kept3", "kept4"]);
    expect(cluster.get(1).storage.lastIndex()).toBe(cluster.get(2).storage.lastIndex());
    expect(appendRejects).toBeLessThanOrEqual(3); // conflict-term hints skip 200 entries at once
  });

  it("a leader never commits an entry of an earlier term by counting replicas (figure 8)", () => {
    const cluster = new TestCluster({ size: 5, config: { checkQuorum: false, preVote: false } });
    cluster.elect(1);
    // Term 2 entry reaches only 1 and 2.
    cluster.drop = (m) => m.type === "app" && m.to >= 3;
    cluster.get(1).node.propose(bytes("old-term"));
    cluster.deliver();
    // 5 becomes leader of term 3 with votes of 3, 4 (its log is as up-to-date as theirs), appends an entry alone.
    cluster.drop = (m) => m.from === 1 || m.to === 1 || m.from === 2 || m.to === 2 || (m.type === "app" && m.from === 5);
    cluster.get(5).node.campaign();
    cluster.deliver();
    expect(cluster.get(5).node.status().role).toBe("leader");
    // 1 comes back as leader of term 4 and replicates the old-term entry to 3: a majority stores it...
    cluster.drop = (m) => m.from === 5 || m.to === 5 || (m.type === "app" && m.to === 4 && m.entries.some((e) => text(e.data) === "old-term"));
    cluster.get(1).node.campaign();
    cluster.deliver();
    expect(cluster.get(1).node.status().role).toBe("leader");
    // ...but it is committed only together with an entry of the leader's own term.
    const status = cluster.get(1).node.status();
    expect(cluster.get(1).storage.term(status.commit)).toBe(status.term);
  });
});

describe("bounded, pipelined replication", () => {
  it("AppendEntries carry at most appendBytesMax of entries and at most inflightMessagesMax are in flight", () => {
    const cluster = new TestCluster({ size: 3, config: { appendBytesMax: 1024, inflightMessagesMax: 4 } });
    cluster.elect(1);
    const appends: number[] = [];
    let inFlightMax = 0;
    const held: ReturnType<typeof message>[] = [];
    cluster.drop = (m) => {
      if (m.type === "app" && m.to === 2) {
        appends.push(m.entries.reduce((sum, e) => sum + e.data.byteLength, 0));
        held.push(m);
        inFlightMax = Math.max(inFlightMax, held.length);
        return true; // hold every append to 2: nothing is acknowledged
      }
      return false;
    };
    for (let i = 0; i < 100; i++) cluster.get(1).node.propose(new Uint8Array(100));
    cluster.deliver();
    expect(Math.max(...appends)).toBeLessThanOrEqual(1024);
    expect(inFlightMax).toBe(4);
    cluster.drop = () => false;
    for (const m of held) cluster.get(2).node.step(m);
    cluster.deliver();
    cluster.tick(2);
    expect(cluster.get(2).applied.length).toBe(cluster.get(1).applied.length);
  });

  it("a leader refuses proposals beyond its uncommitted byte budget, then accepts again once they commit", () => {
    const cluster = new TestCluster({ size: 3, config: { uncommittedBytesMax: 1000 } });
    cluster.elect(1);
    cluster.drop = (m) => m.type === "app";
    const results = Array.from({ length: 20 }, () => cluster.get(1).node.propose(new Uint8Array(100)));
    cluster.deliver();
    expect(results.filter((r) => r.ok).length).toBe(10);
    expect(results.at(-1)).toEqual({ ok: false, error: "busy", leader: 1 });
    cluster.drop = () => false;
    cluster.tick(3);
    expect(cluster.get(1).node.propose(new Uint8Array(100)).ok).toBe(true);
  });
});
