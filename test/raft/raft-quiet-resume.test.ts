/**
 * Proves that a replica restarted while its group was quiet resumes in its durable term as it was
 * (RaftConfig.resumeQuiet): the whole group restarted answers its first proposal with no election
 * at all, and it stays safe: a resumed leader whose followers elected another leader in a later
 * term steps down at the first answer and commits nothing, and a note from an older term is ignored.
 */
import { describe, expect, it } from "vitest";
import { TestCluster } from "../support/cluster.ts";
import type { Message } from "../../src/raft/types.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

function quietCluster(): TestCluster {
  const cluster = new TestCluster({ size: 3 });
  cluster.elect(1);
  cluster.get(1).node.propose(bytes("x"));
  cluster.deliver();
  cluster.tick(5);
  for (const n of cluster.nodes.values()) expect(n.node.status().quiesced).toBe(true);
  return cluster;
}

/** Restarts every replica from its storage with the note it would have written when it went quiet. */
function restartAll(cluster: TestCluster, note: (id: number) => { term: number; leader: number } | undefined): void {
  for (const n of [...cluster.nodes.values()]) {
    const quiet = note(n.id);
    cluster.start(n.id, n.storage, quiet === undefined ? {} : { resumeQuiet: quiet });
  }
  cluster.process();
}

describe("a quiet group resumes after a restart", () => {
  it("the restarted leader commits the first proposal in its term with no election message", () => {
    const cluster = quietCluster();
    const term = cluster.get(1).node.status().term;
    restartAll(cluster, () => ({ term, leader: 1 }));
    for (const n of cluster.nodes.values()) expect(n.node.status()).toMatchObject({ term, leader: 1, quiesced: true, role: n.id === 1 ? "leader" : "follower" });
    const seen: Message[] = [];
    const drop = cluster.drop;
    cluster.drop = (m) => (seen.push(m), drop(m));
    cluster.tick(50); // quiet: nothing is sent, nobody campaigns
    expect(seen).toEqual([]);
    expect(cluster.get(1).node.propose(bytes("after")).ok).toBe(true);
    cluster.deliver();
    cluster.tick(3);
    expect(seen.filter((m) => m.type === "vote" || m.type === "preVote")).toEqual([]);
    for (const n of cluster.nodes.values()) {
      expect(n.node.status().term).toBe(term);
      expect(n.applied.map((entry) => text(entry.data))).toContain("after");
    }
  });

  it("a resumed leader of an older term steps down at the first answer and commits nothing", () => {
    const cluster = quietCluster();
    const term = cluster.get(1).node.status().term;
    cluster.drop = (m) => m.from === 1 || m.to === 1; // replica 1 is gone while the others elect
    cluster.get(2).node.campaign(); // wakes the group; 2 or 3 wins once their timers run
    cluster.deliver();
    cluster.tick(60);
    const next = cluster.leader()!;
    expect(next.id).not.toBe(1);
    expect(next.node.status().term).toBeGreaterThan(term);
    expect(next.node.propose(bytes("new-term")).ok).toBe(true);
    cluster.deliver();
    cluster.start(1, cluster.get(1).storage, { resumeQuiet: { term, leader: 1 } });
    cluster.drop = () => false;
    expect(cluster.get(1).node.status()).toMatchObject({ role: "leader", term });
    expect(cluster.get(1).node.propose(bytes("stale-leader")).ok).toBe(true);
    cluster.deliver();
    cluster.tick(30);
    expect(cluster.get(1).node.status().role).toBe("follower");
    expect(cluster.get(1).node.status().term).toBeGreaterThan(term);
    for (const n of cluster.nodes.values()) {
      expect(n.applied.map((entry) => text(entry.data))).not.toContain("stale-leader");
    }
    expect(cluster.get(1).applied.map((entry) => text(entry.data))).toContain("new-term");
  });

  it("a note from an older term is ignored: the replica starts with no leader, awake", () => {
    const cluster = quietCluster();
    const term = cluster.get(1).node.status().term;
    const restarted = cluster.start(1, cluster.get(1).storage, { resumeQuiet: { term: term - 1, leader: 1 } });
    expect(restarted.node.status()).toMatchObject({ role: "follower", leader: 0, quiesced: false, term });
  });
});
