/**
 * Proves the engine's rule for a replica that lost its disk (RaftConfig.recovering): started again
 * empty, fenced at the highest term of the others and recovering, it votes for nobody until it
 * holds what its lost copy may have helped commit, so a candidate lacking a committed entry cannot
 * win with its vote (the same scenario with a plain empty restart elects such a leader: the
 * control); a leader that counted the lost copy replicates to it again from where its log ends;
 * once whole it votes and counts as before; and it takes a leadership transfer once it holds the
 * leader's whole log.
 */
import { describe, expect, it } from "vitest";
import { TestCluster } from "../support/cluster.ts";
import { MemoryStorage, bootstrapWrite, emptyConfState } from "../../src/raft/storage.ts";
import { decodeConfChange } from "../../src/raft/confchange.ts";
import { RawNode } from "../../src/raft/raw-node.ts";
import { message } from "../../src/raft/raft.ts";
import { createRng } from "../../src/shared/rng.ts";
import type { Entry, Message, NodeId } from "../../src/raft/types.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);
const involves = (m: Message, id: NodeId) => m.from === id || m.to === id;

/** The data of the entries in replica `id`'s log. */
function written(cluster: TestCluster, id: NodeId): string[] {
  const storage = cluster.get(id).storage;
  return storage.entries(storage.firstIndex(), storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER).map((entry) => text(entry.data));
}

/**
 * Leader 1 commits "w" with replica 2 while 3 is cut off; 2's disk is then lost and it restarts
 * empty (fenced and recovering, or, for the control, plain); 1 goes down and 3 comes back.
 */
function lostCopyOfCommittedEntry(recovering: boolean): { cluster: TestCluster; disk1: MemoryStorage } {
  const cluster = new TestCluster({ size: 3 });
  cluster.elect(1);
  cluster.get(1).node.propose(bytes("a"));
  cluster.deliver();
  cluster.drop = (m) => involves(m, 3);
  cluster.get(1).node.propose(bytes("w"));
  cluster.deliver();
  expect(cluster.get(1).node.status().commit).toBe(cluster.get(1).node.status().lastIndex); // "w" committed by 1 and 2
  expect(written(cluster, 3)).not.toContain("w");
  // Replica 2's disk is lost: it restarts empty.
  const fence = Math.max(cluster.get(1).node.status().term, cluster.get(3).node.status().term);
  const empty = new MemoryStorage();
  if (recovering) empty.save({ hardState: { term: fence, vote: 0, commit: 0 }, entries: [], snapshot: null });
  cluster.queue = cluster.queue.filter((m) => !involves(m, 2));
  cluster.start(2, empty, recovering ? { recovering: true } : {});
  // Replica 1 goes down (its disk kept); 3 is reachable again.
  const disk1 = cluster.get(1).storage;
  cluster.nodes.delete(1);
  cluster.queue = cluster.queue.filter((m) => !involves(m, 1));
  cluster.drop = () => false;
  cluster.tick(60);
  return { cluster, disk1 };
}

/** Replica 2 restarted empty at term 3, recovering; `sent` persists its Ready and returns the messages in it. */
function recoveringReplica(): { node: RawNode; sent: () => Message[] } {
  const storage = new MemoryStorage();
  storage.save({ hardState: { term: 3, vote: 0, commit: 0 }, entries: [], snapshot: null });
  const node = new RawNode({ id: 2, electionTicks: 10, heartbeatTicks: 1, rng: createRng(7), recovering: true }, storage);
  const sent = (): Message[] => {
    const ready = node.ready();
    storage.save({ hardState: ready.hardState, entries: ready.entries, snapshot: ready.snapshot });
    node.advance();
    return ready.messages;
  };
  return { node, sent };
}

/** A normal entry at `index` of `term`. */
const entry = (index: number, term: number): Entry => ({ index, term, type: "normal", data: bytes(`e${index}`) });

describe("a replica that lost its disk", () => {
  it("votes for nobody while recovering, so a candidate lacking a committed entry is not elected; a plain empty restart elects it", () => {
    const { cluster: control } = lostCopyOfCommittedEntry(false);
    expect(control.leader()?.id).toBe(3); // elected with the amnesiac's vote ...
    control.get(3).node.propose(bytes("after"));
    control.deliver();
    expect(written(control, 3)).not.toContain("w"); // ... without the committed "w": lost

    const { cluster, disk1 } = lostCopyOfCommittedEntry(true);
    expect(cluster.leader()).toBeUndefined(); // 3 cannot win without 2's vote, which 2 refuses
    expect(cluster.get(2).node.status()).toMatchObject({ recovering: true, lastIndex: 0 });
    // Replica 1 comes back with its disk: 1 is elected (3 votes for it), 2 catches up and is whole again.
    cluster.start(1, disk1);
    cluster.tick(60);
    expect(cluster.leader()?.id).toBe(1);
    cluster.get(1).node.propose(bytes("x"));
    cluster.deliver();
    cluster.tick(2);
    expect(cluster.get(2).node.status().recovering).toBe(false);
    expect(written(cluster, 2)).toEqual(expect.arrayContaining(["w", "x"]));
    // Whole again, it votes and may lead: with 1 down for good, 2 and 3 (woken) elect one of them.
    cluster.nodes.delete(1);
    cluster.queue = cluster.queue.filter((m) => !involves(m, 1));
    for (const id of [2, 3]) cluster.get(id).node.wake();
    cluster.tick(60);
    expect([2, 3]).toContain(cluster.leader()?.id);
    cluster.get(cluster.leader()!.id).node.propose(bytes("y"));
    cluster.deliver();
    for (const id of [2, 3]) expect(written(cluster, id)).toEqual(expect.arrayContaining(["w", "x", "y"]));
  });

  it("is replicated to again from where its log ends by a leader that counted its lost copy, and recovers without an election", () => {
    const cluster = new TestCluster({ size: 3 });
    cluster.elect(1);
    for (const value of ["a", "b", "c"]) cluster.get(1).node.propose(bytes(value));
    cluster.deliver();
    const term = cluster.get(1).node.status().term;
    expect(cluster.get(1).node.status().progress[2]!.match).toBeGreaterThan(0);
    const empty = new MemoryStorage();
    empty.save({ hardState: { term, vote: 0, commit: 0 }, entries: [], snapshot: null });
    cluster.queue = cluster.queue.filter((m) => !involves(m, 2));
    cluster.start(2, empty, { recovering: true });
    // The leader's next heartbeat carries a commit index beyond 2's (empty) log: 2 does not fail
    // on it, it answers with where its log ends, and the leader starts over from there.
    cluster.tick(3);
    expect(cluster.get(2).node.status()).toMatchObject({ recovering: false, term, leader: 1 });
    expect(written(cluster, 2)).toEqual(written(cluster, 1));
    expect(cluster.get(1).node.status().term).toBe(term); // no election
  });

  it("is whole only once an append carries a commit index it holds at an entry of the leader's term, and votes for nobody before", () => {
    const { node, sent } = recoveringReplica();
    // Entries of terms 1 to 3 from the leader of term 3, committed up to an entry of term 2: not whole.
    node.step(message("app", { from: 1, to: 2, term: 3, index: 0, logTerm: 0, entries: [entry(1, 1), entry(2, 2), entry(3, 3)], commit: 2 }));
    sent();
    expect(node.status()).toMatchObject({ recovering: true, commit: 2, lastIndex: 3 });
    // A heartbeat commits nothing and is answered with reject and where the log ends.
    node.step(message("heartbeat", { from: 1, to: 2, term: 3, commit: 3 }));
    expect(sent().find((m) => m.type === "heartbeatResp")).toMatchObject({ reject: true, rejectHint: 3 });
    expect(node.status()).toMatchObject({ recovering: true, commit: 2 });
    // A vote of a later term (a transfer's, which no lease holds back), from a candidate whose log is as long: refused while recovering.
    node.step(message("vote", { from: 3, to: 2, term: 4, index: 3, logTerm: 3, transfer: true }));
    expect(sent().find((m) => m.type === "voteResp")).toMatchObject({ reject: true });
    // The leader of term 4's append carries a commit index at an entry of its term: whole.
    node.step(message("app", { from: 1, to: 2, term: 4, index: 3, logTerm: 3, entries: [entry(4, 4)], commit: 4 }));
    sent();
    expect(node.status()).toMatchObject({ recovering: false, commit: 4 });
    expect(node.recovering()).toBe(false);
  });

  it("takes a leadership transfer once it holds the leader's whole log, whatever the commit index says, and ignores one while it does not", () => {
    const { node, sent } = recoveringReplica();
    const founding = bootstrapWrite({ ...emptyConfState(), voters: [1, 2, 3] }).entries[0]!; // the group's configuration, at index 1
    node.step(message("app", { from: 1, to: 2, term: 3, index: 0, logTerm: 0, entries: [founding, entry(2, 2), entry(3, 3)], commit: 2 }));
    sent();
    node.applyConfChange(decodeConfChange(founding.data)!); // applied, as a host applies a committed configuration entry
    expect(node.status()).toMatchObject({ recovering: true, lastIndex: 3, conf: { voters: [1, 2, 3] } }); // committed only up to an entry of term 2
    // A transfer from a leader whose log goes further (or differs at its end): not whole, no campaign.
    node.step(message("timeoutNow", { from: 1, to: 2, term: 3, index: 4, logTerm: 3 }));
    node.step(message("timeoutNow", { from: 1, to: 2, term: 3, index: 3, logTerm: 2 }));
    expect(sent().filter((m) => m.type === "vote")).toEqual([]);
    expect(node.status()).toMatchObject({ recovering: true, role: "follower" });
    // The leader's log ends at our last entry: whole, and it campaigns at once for the transfer.
    node.step(message("timeoutNow", { from: 1, to: 2, term: 3, index: 3, logTerm: 3 }));
    expect(sent().filter((m) => m.type === "vote").map((m) => ({ to: m.to, term: m.term, transfer: m.transfer }))).toEqual([{ to: 1, term: 4, transfer: true }, { to: 3, term: 4, transfer: true }]);
    expect(node.status()).toMatchObject({ recovering: false, role: "candidate", term: 4 });
  });
});
