/**
 * Proves linearizable reads (ReadIndex, thesis 6.4; lease reads, thesis 6.4.1) and leadership
 * transfer (thesis 3.10) on an in-memory cluster whose network the test controls.
 */
import { describe, expect, it } from "vitest";
import { TestCluster } from "../support/cluster.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("ReadIndex (thesis 6.4)", () => {
  it("a leader answers a read only after a quorum confirms its leadership by heartbeat", () => {
    const cluster = new TestCluster({ size: 3 });
    cluster.elect(1);
    const leader = cluster.get(1);
    cluster.drop = (m) => m.type === "heartbeatResp";
    leader.node.readIndex("r1");
    cluster.deliver();
    expect(leader.readStates).toEqual([]);
    cluster.drop = () => false;
    leader.node.readIndex("r2"); // r1's round is still in flight (its answers were lost): r2 waits
    cluster.deliver();
    expect(leader.readStates).toEqual([]);
    cluster.tick(1); // the next heartbeat carries the newest read and confirms both
    expect(leader.readStates.map((r) => r.context)).toEqual(["r1", "r2"]); // confirming r2 confirms r1
    expect(leader.readStates[0]!.index).toBe(leader.node.status().commit);
  });

  it("reads that arrive while a confirmation round is in flight share the next round", () => {
    const cluster = new TestCluster({ size: 3 });
    cluster.elect(1);
    const leader = cluster.get(1);
    let heartbeats = 0;
    cluster.drop = (m) => {
      if (m.type === "heartbeat" && m.context !== "") heartbeats++;
      return false;
    };
    leader.node.readIndex("first");
    cluster.process(); // the round for "first" is sent, not yet answered
    for (let i = 0; i < 50; i++) leader.node.readIndex(`burst-${i}`);
    cluster.deliver();
    expect(leader.readStates.length).toBe(51);
    expect(heartbeats).toBe(2 * 2); // two rounds to two followers, not 51
  });

  it("a deposed leader that cannot reach a quorum never answers a read", () => {
    const cluster = new TestCluster({ size: 3, config: { quiesce: false } });
    cluster.elect(1);
    cluster.drop = (m) => m.from === 1 || m.to === 1;
    cluster.get(2).node.campaign();
    cluster.deliver();
    cluster.get(2).node.propose(bytes("new"));
    cluster.deliver();
    cluster.get(1).node.readIndex("stale?");
    cluster.tick(5);
    expect(cluster.get(1).readStates).toEqual([]);
  });

  it("a follower obtains a read index from the leader, at or beyond every committed write", () => {
    const cluster = new TestCluster({ size: 3 });
    cluster.elect(1);
    cluster.get(1).node.propose(bytes("w"));
    cluster.deliver();
    const commit = cluster.get(1).node.status().commit;
    cluster.get(3).node.readIndex("f1");
    cluster.deliver();
    expect(cluster.get(3).readStates).toEqual([{ index: commit, context: "f1" }]);
  });

  it.each([
    ["linearizable", false],
    ["lease", true],
  ])("a follower that forwarded a %s read learns the commit index with the answer, so it can serve the read at once", (_name, lease) => {
    const cluster = new TestCluster({ size: 3, config: { leaseReads: lease, quiesce: false } });
    cluster.tick(30); // past the restart lease, a leader is elected and its heartbeats answered
    const leader = cluster.leader()!;
    const follower = cluster.get(leader.id === 3 ? 2 : 3);
    leader.node.propose(bytes("w"));
    cluster.deliver(); // no tick: the followers store "w" but are not told it committed
    const commit = leader.node.status().commit;
    expect(follower.node.status().commit).toBeLessThan(commit);
    const sent = cluster.sent;
    follower.node.readIndex("f1", { lease });
    cluster.deliver();
    expect(follower.readStates).toEqual([{ index: commit, context: "f1" }]);
    expect(follower.node.status().applied).toBe(commit);
    // A lease read costs no heartbeat round: the request, its answer, and one append with the commit index.
    if (lease) expect(cluster.sent - sent).toBe(4);
  });

  it("a new leader answers reads only once an entry of its own term is committed", () => {
    const cluster = new TestCluster({ size: 3, config: { quiesce: false } });
    cluster.elect(1);
    cluster.drop = (m) => m.type === "app";
    cluster.tick(20); // followers keep hearing heartbeats, nothing else
    cluster.drop = (m) => m.type === "app" || m.to === 1 || m.from === 1;
    cluster.tick(40);
    const leader = cluster.leader();
    expect(leader && leader.id).not.toBe(1);
    leader!.node.readIndex("early");
    cluster.deliver();
    expect(leader!.readStates).toEqual([]);
    cluster.drop = (m) => m.to === 1 || m.from === 1;
    cluster.tick(2);
    expect(leader!.readStates.map((r) => r.context)).toEqual(["early"]);
  });
});

describe("lease reads (opt-in, require CheckQuorum)", () => {
  it("are never served without the leaseReads setting", () => {
    const cluster = new TestCluster({ size: 3, config: { quiesce: false } });
    cluster.elect(1);
    cluster.tick(2);
    const sentBefore = cluster.sent;
    cluster.get(1).node.readIndex("lease", { lease: true });
    cluster.process();
    expect(cluster.get(1).readStates).toEqual([]);
    expect(cluster.sent).toBeGreaterThan(sentBefore); // it ran a heartbeat round instead
  });

  it("are answered without a heartbeat round while the lease holds", () => {
    const cluster = new TestCluster({ size: 3, config: { quiesce: false, leaseReads: true } });
    cluster.tick(30);
    cluster.get(1).node.transferLeader(1);
    cluster.leader()!.node.transferLeader(1);
    cluster.tick(25);
    expect(cluster.leader()?.id).toBe(1);
    const sentBefore = cluster.sent;
    cluster.get(1).node.readIndex("lease", { lease: true });
    cluster.process();
    expect(cluster.get(1).readStates.map((r) => r.context)).toEqual(["lease"]);
    expect(cluster.sent).toBe(sentBefore);
  });

  it("fall back to a heartbeat round once the quorum stopped answering", () => {
    const cluster = new TestCluster({ size: 3, config: { quiesce: false, leaseReads: true, electionTicks: 10, leaseSafetyTicks: 2 } });
    cluster.tick(10);
    cluster.elect(1);
    cluster.tick(2);
    cluster.drop = (m) => m.type === "heartbeatResp";
    cluster.tick(9);
    cluster.get(1).node.readIndex("late", { lease: true });
    cluster.deliver();
    expect(cluster.get(1).readStates).toEqual([]);
  });
});

describe("leadership transfer (thesis 3.10)", () => {
  it("catches the target up, then sends TimeoutNow so it wins the next term", () => {
    const cluster = new TestCluster({ size: 3 });
    cluster.elect(1);
    cluster.drop = (m) => m.type === "app" && m.to === 3;
    cluster.get(1).node.propose(bytes("x"));
    cluster.deliver();
    cluster.drop = () => false;
    const term = cluster.get(1).node.status().term;
    cluster.get(1).node.transferLeader(3);
    cluster.deliver();
    cluster.tick(2);
    expect(cluster.get(3).node.status().role).toBe("leader");
    expect(cluster.get(3).node.status().term).toBe(term + 1);
    expect(cluster.get(1).node.status().role).toBe("follower");
  });

  it("tells a leader that was handed the role by a transfer from one that won an election", () => {
    const cluster = new TestCluster({ size: 3, config: { quiesce: false } });
    cluster.elect(1);
    expect(cluster.get(1).node.status().leadsByTransfer).toBe(false);
    cluster.get(1).node.transferLeader(2);
    cluster.deliver();
    expect(cluster.get(2).node.status()).toMatchObject({ role: "leader", leadsByTransfer: true });
    expect(cluster.get(1).node.status().leadsByTransfer).toBe(false); // a follower now
    cluster.drop = (m) => m.from === 2 || m.to === 2; // the chosen leader is cut off: the others elect one
    cluster.tick(40);
    const elected = [1, 3].map((id) => cluster.get(id)).find((node) => node.node.status().role === "leader");
    expect(elected?.node.status().leadsByTransfer).toBe(false);
  });

  it("an old leader that a transfer's target deposed does not start an election on demand while the target's runs", () => {
    const cluster = new TestCluster({ size: 3, config: { quiesce: false } });
    expect(cluster.get(1).node.mayCampaignOnDemand()).toBe(true); // just started
    cluster.elect(1);
    cluster.tick(20);
    // The target's vote requests are held (as while its new term is synced): only its answers to
    // the leader's heartbeats, at its higher term, reach the leader.
    cluster.drop = (m) => m.from === 2 && m.type === "vote";
    cluster.get(1).node.transferLeader(2);
    cluster.deliver();
    cluster.tick(1);
    const old = cluster.get(1).node;
    expect(old.brief()).toMatchObject({ role: "follower", leader: 0, term: cluster.get(2).node.brief().term });
    expect(old.mayCampaignOnDemand()).toBe(false);
    cluster.tick(10); // a whole election timeout without a leader: then a client may start one
    expect(old.mayCampaignOnDemand() || old.brief().leader !== 0).toBe(true);
  });

  it("refuses proposals while transferring and aborts after an election timeout when the target is gone", () => {
    const cluster = new TestCluster({ size: 3, config: { quiesce: false } });
    cluster.elect(1);
    cluster.drop = (m) => m.to === 3;
    cluster.get(1).node.propose(bytes("x"));
    cluster.deliver();
    cluster.get(1).node.transferLeader(3);
    expect(cluster.get(1).node.propose(bytes("y"))).toEqual({ ok: false, error: "transferring", leader: 1 });
    cluster.tick(11);
    expect(cluster.get(1).node.status().leadTransferee).toBe(0);
    expect(cluster.get(1).node.status().role).toBe("leader");
    expect(cluster.get(1).node.propose(bytes("z")).ok).toBe(true);
  });
});
