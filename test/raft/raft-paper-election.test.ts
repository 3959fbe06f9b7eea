/**
 * Proves the election claims of the Raft paper (section 5.2) and thesis chapter 9 on an
 * in-memory cluster whose network the test controls: each test is named after the claim.
 */
import { describe, expect, it } from "vitest";
import { TestCluster } from "../support/cluster.ts";
import { RawNode } from "../../src/raft/raw-node.ts";
import { MemoryStorage, emptyConfState } from "../../src/raft/storage.ts";
import { createRng } from "../../src/shared/rng.ts";
import { message } from "../../src/raft/raft.ts";

const isolate = (cluster: TestCluster, id: number) => {
  cluster.drop = (m) => m.from === id || m.to === id;
};

describe("leader election (paper 5.2)", () => {
  it("a follower that hears from no leader starts an election and a majority elects it", () => {
    const cluster = new TestCluster({ size: 3 });
    cluster.tick(25);
    const leader = cluster.leader();
    expect(leader).toBeDefined();
    const term = leader!.node.status().term;
    for (const n of cluster.nodes.values()) {
      expect(n.node.status().leader).toBe(leader!.id);
      expect(n.node.status().term).toBe(term);
    }
  });

  it("at most one leader is elected in a given term, even with many candidates", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const cluster = new TestCluster({ size: 5, seed, config: { preVote: false, checkQuorum: false } });
      const leadersByTerm = new Map<number, number>();
      for (let tick = 0; tick < 60; tick++) {
        cluster.drop = (m) => (m.from + m.to + tick) % 4 === 0; // a lossy network makes split votes likely
        cluster.tick();
        for (const n of cluster.nodes.values()) {
          const s = n.node.status();
          if (s.role !== "leader") continue;
          const existing = leadersByTerm.get(s.term);
          expect(existing === undefined || existing === n.id).toBe(true);
          leadersByTerm.set(s.term, n.id);
        }
      }
    }
  });

  it("each server votes for at most one candidate in a given term, first come first served", () => {
    const voter = new RawNode({ id: 1, electionTicks: 10, heartbeatTicks: 1, rng: createRng(1), preVote: false, checkQuorum: false },
      MemoryStorage.bootstrap({ ...emptyConfState(), voters: [1, 2, 3] }));
    voter.step(message("vote", { from: 2, to: 1, term: 5, index: 1, logTerm: 1 }));
    voter.step(message("vote", { from: 3, to: 1, term: 5, index: 1, logTerm: 1 }));
    voter.step(message("vote", { from: 2, to: 1, term: 5, index: 1, logTerm: 1 })); // a retry of the same vote
    const responses = voter.ready().messages.filter((m) => m.type === "voteResp");
    expect(responses.map((m) => [m.to, m.reject])).toEqual([[2, false], [3, true], [2, false]]);
    voter.advance();
    expect(voter.status().vote).toBe(2);
  });

  it("a candidate that learns of a leader with its term or higher returns to follower", () => {
    const cluster = new TestCluster({ size: 3, config: { preVote: false } });
    cluster.elect(1);
    isolate(cluster, 3);
    cluster.get(3).node.campaign();
    cluster.deliver();
    expect(cluster.get(3).node.status().role).toBe("candidate");
    const candidateTerm = cluster.get(3).node.status().term;
    cluster.get(3).node.step(message("app", { from: 1, to: 3, term: candidateTerm, index: 0, logTerm: 0 }));
    expect(cluster.get(3).node.status().role).toBe("follower");
    expect(cluster.get(3).node.status().leader).toBe(1);
  });

  it("election timeouts are randomized within [electionTicks, 2 * electionTicks)", () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const cluster = new TestCluster({ size: 3, seed, config: { preVote: false } });
      cluster.drop = () => true;
      let ticks = 0;
      while (cluster.get(1).node.status().role === "follower" && ticks < 100) {
        cluster.get(1).node.tick();
        ticks++;
      }
      expect(ticks).toBeGreaterThanOrEqual(10);
      expect(ticks).toBeLessThan(20);
      seen.add(ticks);
    }
    expect(seen.size).toBeGreaterThan(3);
  });

  it("a candidate with a less up-to-date log cannot win (election restriction, 5.4.1)", () => {
    const cluster = new TestCluster({ size: 3, config: { preVote: false, checkQuorum: false } });
    cluster.elect(1);
    isolate(cluster, 3);
    cluster.get(1).node.propose(new TextEncoder().encode("x"));
    cluster.deliver();
    cluster.drop = (m) => m.from === 1 || m.to === 1; // old leader gone; 3 is behind, 2 is not
    cluster.get(3).node.campaign();
    cluster.deliver();
    expect(cluster.get(3).node.status().role).not.toBe("leader");
    cluster.get(2).node.campaign();
    cluster.deliver();
    expect(cluster.get(2).node.status().role).toBe("leader");
  });
});

describe("PreVote and CheckQuorum (thesis 9.6 and 6.2)", () => {
  it("a partitioned follower that rejoins does not raise the term or disrupt the leader", () => {
    const cluster = new TestCluster({ size: 3 });
    cluster.elect(1);
    const term = cluster.get(1).node.status().term;
    isolate(cluster, 3);
    cluster.tick(100);
    expect(cluster.get(3).node.status().term).toBe(term); // pre-votes never succeeded, so no term bump
    cluster.drop = () => false;
    cluster.tick(5);
    expect(cluster.get(1).node.status().role).toBe("leader");
    expect(cluster.get(1).node.status().term).toBe(term);
  });

  it("a leader that cannot reach a quorum for an election timeout steps down", () => {
    const cluster = new TestCluster({ size: 3, config: { quiesce: false } });
    cluster.elect(1);
    isolate(cluster, 1);
    cluster.tick(25);
    expect(cluster.get(1).node.status().role).toBe("follower");
    const newLeader = cluster.leader();
    expect(newLeader && newLeader.id).not.toBe(1);
  });

  it("followers that heard from a live leader ignore a disruptive vote request", () => {
    const cluster = new TestCluster({ size: 3, config: { preVote: false, quiesce: false } });
    cluster.elect(1);
    const term = cluster.get(1).node.status().term;
    cluster.tick(3);
    cluster.get(2).node.step(message("vote", { from: 3, to: 2, term: term + 5, index: 100, logTerm: term + 4 }));
    expect(cluster.get(2).node.status().term).toBe(term);
  });
});
