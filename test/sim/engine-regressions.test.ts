/**
 * Proves that the engine bugs the simulator found stay fixed: each test rebuilds the failing
 * situation by hand on the small test cluster (a late message, a lost acknowledgement, a term that
 * ran ahead) so it does not depend on a seed, which any change to the simulator reshuffles.
 */
import { describe, expect, it } from "vitest";
import { message } from "../../src/raft/raft.ts";
import type { Message } from "../../src/raft/types.ts";
import { TestCluster } from "../support/cluster.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** A three-replica group led by 1 that has gone quiet. */
function quietGroup(): TestCluster {
  const cluster = new TestCluster({ size: 3 });
  cluster.elect(1);
  cluster.get(1).node.propose(bytes("x"));
  cluster.deliver();
  cluster.tick(5);
  for (const node of cluster.nodes.values()) expect(node.node.status().quiesced).toBe(true);
  return cluster;
}

describe("quiescence under reordering (seeds 1 and 94)", () => {
  it("a late heartbeat response does not wake the quiet leader", () => {
    const cluster = quietGroup();
    const term = cluster.get(1).node.status().term;
    const sent = cluster.sent;
    cluster.get(1).node.step(message("heartbeatResp", { from: 2, to: 1, term, rejectHint: cluster.get(2).node.status().lastIndex }));
    cluster.tick(50);
    expect(cluster.get(1).node.status().quiesced).toBe(true);
    expect(cluster.sent).toBe(sent);
  });

  it("a late heartbeat does not wake a quiet follower, which would then campaign against its quiet leader", () => {
    const cluster = quietGroup();
    const leader = cluster.get(1).node.status();
    const sent = cluster.sent;
    cluster.get(2).node.step(message("heartbeat", { from: 1, to: 2, term: leader.term, commit: leader.commit }));
    cluster.tick(100);
    expect(cluster.sent - sent).toBe(1); // its answer, and no pre-vote round
    expect(cluster.get(2).node.status().quiesced).toBe(true);
    expect(cluster.get(1).node.status()).toMatchObject({ role: "leader", term: leader.term, quiesced: true });
  });

  it("a follower woken by a late message tells its leader instead of campaigning against the quiet group (seed 30390)", () => {
    const cluster = quietGroup();
    const term = cluster.get(1).node.status().term;
    cluster.get(2).node.step(message("preVoteResp", { from: 1, to: 2, term, reject: true })); // the leader's answer to an old pre-vote
    const sent: string[] = [];
    cluster.drop = (m) => {
      sent.push(m.type);
      return false;
    };
    cluster.tick(100);
    expect(sent).not.toContain("preVote");
    expect(cluster.get(1).node.status()).toMatchObject({ role: "leader", term, quiesced: true });
    expect(cluster.get(2).node.status().quiesced).toBe(true);
  });

  it("duplicated quiesce responses do not make the leader take a follower for stalled", () => {
    const cluster = new TestCluster({ size: 3 });
    cluster.elect(1);
    cluster.get(1).node.propose(bytes("x"));
    cluster.deliver();
    const original = cluster.process.bind(cluster);
    let duplicate = true;
    cluster.process = () => {
      original();
      if (!duplicate) return;
      const responses = cluster.queue.filter((m) => m.type === "heartbeatResp" && m.quiesce);
      cluster.queue.push(...responses.map((m): Message => ({ ...m })));
    };
    cluster.tick(5);
    duplicate = false;
    const leader = cluster.get(1).node.status();
    expect(leader.quiesced).toBe(true);
    expect([leader.progress[2]?.state, leader.progress[3]?.state]).toEqual(["replicate", "replicate"]);
  });
});

describe("replication after lost messages (seeds 843 and 925)", () => {
  it("a follower left probing with nothing new to send still returns to replicate, so the group quiesces", () => {
    const cluster = new TestCluster({ size: 3 });
    cluster.elect(1);
    cluster.get(1).node.propose(bytes("x"));
    cluster.deliver();
    cluster.get(1).node.reportUnreachable(2); // replicate -> probe, with match = last index
    cluster.tick(10);
    const leader = cluster.get(1).node.status();
    expect(leader.progress[2]?.state).toBe("replicate");
    expect(leader.quiesced).toBe(true);
  });

  it("a full window whose acknowledgements were lost drains on heartbeat responses", () => {
    const cluster = new TestCluster({ size: 3, config: { inflightMessagesMax: 1 } });
    cluster.elect(1);
    cluster.drop = (m) => m.type === "appResp";
    cluster.get(1).node.propose(bytes("lost acks"));
    cluster.deliver();
    expect(cluster.get(1).node.status().progress[2]?.state).toBe("replicate");
    cluster.drop = () => false;
    cluster.tick(5);
    const last = cluster.get(1).node.status().lastIndex;
    for (const node of cluster.nodes.values()) expect(node.node.status().commit).toBe(last);
  });
});

describe("terms (seed 242 with 20000 steps)", () => {
  it("a stale leader learns a follower's higher term from its reply even with PreVote and CheckQuorum off", () => {
    const cluster = new TestCluster({ size: 3, config: { preVote: false, checkQuorum: false } });
    cluster.elect(1);
    const term = cluster.get(1).node.status().term;
    cluster.drop = (m) => m.from === 3 || m.to === 3;
    cluster.get(3).node.campaign(); // its term runs ahead while it is cut off
    cluster.get(3).node.campaign();
    cluster.deliver();
    expect(cluster.get(3).node.status().term).toBe(term + 2);
    cluster.drop = () => false;
    cluster.get(1).node.tick(); // one heartbeat from the old leader; replica 3 does not campaign again
    cluster.deliver();
    expect(cluster.get(1).node.status()).toMatchObject({ role: "follower", term: term + 2 });
  });
});

describe("membership changes that take effect when applied (seed 5862)", () => {
  it("a candidate learns from vote answers the commit index it did not know, so it can apply a committed change", () => {
    const cluster = new TestCluster({ size: 3, config: { checkQuorum: false } });
    cluster.elect(1);
    cluster.drop = (m) => m.to === 3 && (m.type === "heartbeat" || (m.type === "app" && m.entries.length === 0));
    cluster.get(1).node.propose(bytes("committed, but 3 is not told"));
    cluster.deliver();
    cluster.tick(1); // 2 learns the commit index from a heartbeat; 3 does not
    const committed = cluster.get(2).node.status().commit;
    expect(cluster.get(3).node.status().lastIndex).toBe(committed);
    expect(cluster.get(3).node.status().commit).toBeLessThan(committed);
    cluster.drop = () => false;
    cluster.get(3).node.campaign();
    cluster.process();
    const preVotes = cluster.queue.filter((m) => m.type === "preVote" && m.to === 2);
    cluster.queue = [];
    for (const m of preVotes) cluster.get(2).node.step(m);
    cluster.process();
    const answers = cluster.queue.filter((m) => m.type === "preVoteResp" && m.to === 3);
    cluster.queue = [];
    expect(answers.length).toBe(1);
    cluster.get(3).node.step(answers[0]!);
    expect(cluster.get(3).node.status().commit).toBe(committed);
  });
});

describe("elections across a membership change (seed 204)", () => {
  it("a candidate removed from the voters while it campaigns does not become leader", () => {
    const cluster = new TestCluster({ size: 3, config: { checkQuorum: false } });
    cluster.elect(1);
    cluster.drop = (m) => m.to === 3 && (m.type === "heartbeat" || (m.type === "app" && m.entries.length === 0));
    expect(cluster.get(1).node.proposeConfChange({ changes: [{ type: "removeVoter", node: 3 }] }).ok).toBe(true);
    cluster.deliver();
    cluster.tick(1);
    expect(cluster.get(1).node.status().conf.voters).toEqual([1, 2]);
    expect(cluster.get(3).node.status().conf.votersOutgoing).toContain(3); // still joint: it does not know C_new committed
    cluster.drop = () => false;
    cluster.get(3).node.campaign(); // it learns the commit from the answers and applies its removal mid-election
    cluster.deliver();
    expect(cluster.get(3).node.status().conf.voters).toEqual([1, 2]);
    expect(cluster.get(3).node.status().role).not.toBe("leader");
  });
});

describe("lease reads and late messages (straggler messages)", () => {
  it("a leader whose abandoned transfer's TimeoutNow arrives late serves no stale lease read", () => {
    const cluster = new TestCluster({ size: 3, config: { leaseReads: true, quiesce: false } });
    cluster.tick(40); // past the restart lease, a leader is elected
    const leader = cluster.leader()!.id;
    const [target, other] = [1, 2, 3].filter((id) => id !== leader) as [number, number];
    let late: Message | undefined;
    cluster.drop = (m) => {
      if (m.type === "timeoutNow") late = m;
      return m.type === "timeoutNow";
    };
    cluster.get(leader).node.transferLeader(target);
    cluster.deliver();
    expect(late).toBeDefined();
    cluster.drop = () => false;
    cluster.tick(25); // the transfer is abandoned; heartbeats earn the lease again
    cluster.drop = (m) => (m.from === target && m.to === leader) || (m.from === leader && m.to === target);
    cluster.get(target).node.step(late!); // the TimeoutNow arrives at last: the target wins without the old leader
    cluster.deliver();
    expect(cluster.get(target).node.status().role).toBe("leader");
    cluster.get(target).node.propose(bytes("newer"));
    cluster.deliver();
    cluster.tick(1); // the heartbeat carries the commit index
    expect(new TextDecoder().decode(cluster.get(other).applied.at(-1)!.data)).toBe("newer");
    const newer = cluster.get(target).node.status().commit;
    cluster.get(leader).node.readIndex("late", { lease: true });
    cluster.deliver();
    for (const state of cluster.get(leader).readStates) expect(state.index).toBeGreaterThanOrEqual(newer);
  });
});

