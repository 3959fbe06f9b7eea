/**
 * Proves quiescence: an idle, fully replicated group stops sending messages and stops election
 * timers; any proposal, read or message wakes it; and a leader lost while the group was quiet is
 * replaced once the group is woken.
 */
import { describe, expect, it } from "vitest";
import { TestCluster } from "../support/cluster.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function quietCluster(): TestCluster {
  const cluster = new TestCluster({ size: 3 });
  cluster.elect(1);
  cluster.get(1).node.propose(bytes("x"));
  cluster.deliver();
  cluster.tick(5);
  return cluster;
}

describe("quiescence", () => {
  it("an idle, fully replicated group sends no messages at all", () => {
    const cluster = quietCluster();
    for (const n of cluster.nodes.values()) expect(n.node.status().quiesced).toBe(true);
    const sent = cluster.sent;
    cluster.tick(500);
    expect(cluster.sent).toBe(sent);
    expect(cluster.get(1).node.status().role).toBe("leader");
  });

  it("the same group without quiescence heartbeats every tick", () => {
    const cluster = new TestCluster({ size: 3, config: { quiesce: false } });
    cluster.elect(1);
    const sent = cluster.sent;
    cluster.tick(100);
    expect(cluster.sent - sent).toBe(100 * 4); // a heartbeat and its response per follower per tick
  });

  it("a proposal wakes the group, commits, and the group goes quiet again", () => {
    const cluster = quietCluster();
    expect(cluster.get(1).node.propose(bytes("wake")).ok).toBe(true);
    cluster.deliver();
    expect(new TextDecoder().decode(cluster.get(1).applied.at(-1)!.data)).toBe("wake");
    cluster.tick(5);
    // Followers learn the commit index from a heartbeat or the quiesce notice, not a message of its own.
    expect(new TextDecoder().decode(cluster.get(3).applied.at(-1)!.data)).toBe("wake");
    const sent = cluster.sent;
    cluster.tick(50);
    expect(cluster.sent).toBe(sent);
  });

  it("a read at a quiet follower wakes it and is answered", () => {
    const cluster = quietCluster();
    cluster.get(2).node.readIndex("q");
    cluster.deliver();
    expect(cluster.get(2).readStates.map((r) => r.context)).toEqual(["q"]);
  });

  it("a follower does not go quiet while its log differs from the leader's", () => {
    const cluster = new TestCluster({ size: 3 });
    cluster.elect(1);
    cluster.drop = (m) => m.type === "app" && m.to === 3;
    cluster.get(1).node.propose(bytes("x"));
    cluster.deliver();
    cluster.tick(10);
    expect(cluster.get(1).node.status().quiesced).toBe(false); // 3 is behind: keep heartbeating
  });

  it("a leader that crashed while the group was quiet is replaced once the group is woken", () => {
    const cluster = quietCluster();
    cluster.drop = (m) => m.from === 1 || m.to === 1; // the leader is gone
    cluster.tick(200);
    expect(cluster.get(2).node.status().leader).toBe(1); // nobody noticed: nothing was expected
    cluster.get(2).node.propose(bytes("anyone?"));
    cluster.tick(60);
    const leader = cluster.leader();
    expect([2, 3]).toContain(leader?.id);
    leader!.node.propose(bytes("new leader"));
    cluster.deliver();
    expect(new TextDecoder().decode(cluster.get(3).applied.at(-1)!.data)).toBe("new leader");
  });
});
