/**
 * Proves snapshots with log compaction and chunked InstallSnapshot (thesis 5), and membership
 * changes by joint consensus with learners (thesis 4), on an in-memory cluster.
 */
import { describe, expect, it } from "vitest";
import { TestCluster } from "../support/cluster.ts";
import { MemoryStorage, emptyConfState } from "../../src/raft/storage.ts";
import { snapshotChunkBytesMax } from "../../src/shared/limits.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("snapshots and compaction", () => {
  it("the log is compacted once snapshotEntries entries are applied", () => {
    const cluster = new TestCluster({ size: 3, snapshotEntries: 10 });
    cluster.elect(1);
    for (let i = 0; i < 25; i++) cluster.get(1).node.propose(bytes(`e${i}`));
    cluster.deliver();
    cluster.tick(2);
    for (const n of cluster.nodes.values()) expect(n.storage.firstIndex()).toBeGreaterThan(10);
  });

  it("a follower behind the compacted log catches up by InstallSnapshot sent in bounded chunks", () => {
    const cluster = new TestCluster({ size: 3, snapshotEntries: 10 });
    const big = new Uint8Array(snapshotChunkBytesMax * 2 + 123).fill(7);
    for (const n of cluster.nodes.values()) n.takeSnapshot = () => big;
    cluster.elect(1);
    cluster.drop = (m) => m.to === 3 || m.from === 3;
    for (let i = 0; i < 30; i++) cluster.get(1).node.propose(bytes(`e${i}`));
    cluster.deliver();
    cluster.tick(2);
    expect(cluster.get(1).storage.firstIndex()).toBeGreaterThan(cluster.get(3).storage.lastIndex() + 1);
    const chunks: number[] = [];
    cluster.drop = (m) => {
      if (m.type === "snap") chunks.push(m.snapshot!.data.byteLength);
      return false;
    };
    cluster.tick(3);
    expect(chunks.length).toBe(3);
    expect(Math.max(...chunks)).toBeLessThanOrEqual(snapshotChunkBytesMax);
    expect(cluster.get(3).restored?.byteLength).toBe(big.byteLength);
    expect(cluster.get(3).node.status().applied).toBe(cluster.get(1).node.status().applied);
    cluster.get(1).node.propose(bytes("after"));
    cluster.deliver();
    cluster.tick(1); // the heartbeat carries the commit index
    expect(new TextDecoder().decode(cluster.get(3).applied.at(-1)!.data)).toBe("after");
  });

  it("a lost chunk is resent and the transfer completes", () => {
    const cluster = new TestCluster({ size: 3, snapshotEntries: 10 });
    for (const n of cluster.nodes.values()) n.takeSnapshot = () => new Uint8Array(snapshotChunkBytesMax * 3);
    cluster.elect(1);
    cluster.drop = (m) => m.to === 3 || m.from === 3;
    for (let i = 0; i < 30; i++) cluster.get(1).node.propose(bytes(`e${i}`));
    cluster.deliver();
    let dropped = 0;
    cluster.drop = (m) => m.type === "snap" && m.snapshot!.offset > 0 && dropped++ < 2;
    cluster.tick(10);
    expect(dropped).toBeGreaterThanOrEqual(2);
    expect(cluster.get(3).node.status().applied).toBe(cluster.get(1).node.status().applied);
  });
});

describe("membership by joint consensus", () => {
  it("adds a voter through C_old,new, leaves the joint state by itself, and the new voter counts", () => {
    const cluster = new TestCluster({ size: 3 });
    cluster.elect(1);
    cluster.start(4, MemoryStorage.bootstrap(emptyConfState()));
    expect(cluster.get(1).node.proposeConfChange({ changes: [{ type: "addVoter", node: 4 }] }).ok).toBe(true);
    cluster.deliver();
    cluster.tick(3);
    const conf = cluster.get(1).node.status().conf;
    expect(conf.voters).toEqual([1, 2, 3, 4]);
    expect(conf.votersOutgoing).toEqual([]);
    expect(cluster.get(4).node.status().conf.voters).toEqual([1, 2, 3, 4]);
    cluster.drop = (m) => m.to === 2 || m.to === 3; // with 4 voters, 1 and 4 alone cannot commit
    const commit = cluster.get(1).node.status().commit;
    cluster.get(1).node.propose(bytes("needs3of4"));
    cluster.deliver();
    expect(cluster.get(1).node.status().commit).toBe(commit);
  });

  it("allows one change at a time", () => {
    const cluster = new TestCluster({ size: 3 });
    cluster.elect(1);
    expect(cluster.get(1).node.proposeConfChange({ changes: [{ type: "addLearner", node: 4 }] }).ok).toBe(true);
    expect(cluster.get(1).node.proposeConfChange({ changes: [{ type: "addLearner", node: 5 }] })).toMatchObject({ ok: false, error: "confChangePending" });
  });

  it("a learner receives the log but never votes or counts toward commit, and can be promoted", () => {
    const cluster = new TestCluster({ size: 3 });
    cluster.elect(1);
    cluster.start(4, MemoryStorage.bootstrap(emptyConfState()));
    cluster.get(1).node.proposeConfChange({ changes: [{ type: "addLearner", node: 4 }] });
    cluster.deliver();
    cluster.tick(3);
    cluster.get(1).node.propose(bytes("to-learner"));
    cluster.deliver();
    cluster.tick(1); // the heartbeat carries the commit index
    expect(new TextDecoder().decode(cluster.get(4).applied.at(-1)!.data)).toBe("to-learner");
    cluster.get(4).node.campaign();
    cluster.deliver();
    expect(cluster.get(4).node.status().role).toBe("follower");
    expect(cluster.get(1).node.proposeConfChange({ changes: [{ type: "addVoter", node: 4 }] }).ok).toBe(true);
    cluster.deliver();
    cluster.tick(3);
    expect(cluster.get(4).node.status().conf.voters).toContain(4);
  });

  it("a leader that removes itself keeps leading through the joint phase and steps down once C_new commits", () => {
    const cluster = new TestCluster({ size: 3, config: { quiesce: false } });
    cluster.elect(1);
    expect(cluster.get(1).node.proposeConfChange({ changes: [{ type: "removeVoter", node: 1 }] }).ok).toBe(true);
    cluster.deliver();
    cluster.tick(1);
    expect(cluster.get(1).node.status().role).toBe("follower");
    expect(cluster.get(2).node.status().conf.voters).toEqual([2, 3]);
    cluster.tick(40);
    const leader = cluster.leader();
    expect([2, 3]).toContain(leader?.id);
    leader!.node.propose(bytes("without-1"));
    cluster.deliver();
    cluster.tick(1); // the heartbeat carries the commit index
    expect(new TextDecoder().decode(cluster.get(2).applied.at(-1)!.data)).toBe("without-1");
  });
});
