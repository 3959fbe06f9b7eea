/**
 * Proves, under Deno, the turns of a node's shared database (node-storage.ts): the passes of many
 * groups in one macrotask are one transaction and one WAL sync; what waits for the turn runs only
 * once a second connection can read the turn's rows; a turn that wrote nothing Raft relies on
 * commits without a sync; a failed pass is rolled back alone; outputs are released in order after
 * the background sync that covers them; while a sync runs, the passes of later tasks and of what it
 * released are one commit when it ends (also when one of its outputs throws); and a leader's
 * AppendEntries leave a NodeReplica before
 * the sync while its other messages, and the input that could acknowledge them, wait for it,
 * while an acknowledgement of an entry already synced is stepped at once; a follower's input that
 * arrives while a sync runs is stepped then and passed over once when it ends, except a read
 * index, which is passed at once so the read it answers does not wait; and whether a
 * replica's applied state is all synced (when answers may skip the wait for the next sync).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { SyncNotingLogStore } from "../../src/hosts/deno/sync-noting-log-store.ts";
import { SqliteKvStore } from "../../src/hosts/common/sqlite/sqlite-kv-store.ts";
import { NodeStorage } from "../../src/hosts/deno/node-storage.ts";
import { NodeReplica } from "../../src/hosts/deno/node-replica.ts";
import { message } from "../../src/raft/raft.ts";
import type { Message } from "../../src/raft/types.ts";

const directory = mkdtempSync(join(tmpdir(), "edgeraft-deno-node-storage-"));
let files = 0;
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const openStorage = (path: string) =>
  new NodeStorage(path, {
    failed: (error) => {
      throw error;
    },
  });
const entry = (index: number) => ({ index, term: 1, type: "normal" as const, data: new Uint8Array([index]) });

/** Rows of raft_log per scope, read through a second connection (what is committed). */
function committedEntries(path: string): Record<string, number> {
  const reader = new DatabaseSync(path);
  const rows = reader.prepare("SELECT scope, COUNT(*) AS n FROM raft_log GROUP BY scope").all() as { scope: string; n: number }[];
  reader.close();
  return Object.fromEntries(rows.map((row) => [row.scope, Number(row.n)]));
}

/**
 * Holds each background WAL sync of `storage` once it is done, until release() lets it report
 * (so a test decides what runs while a sync is in flight); release() waits for the next sync to
 * be held, lets it report, and resolves after the tasks it released ran.
 */
function holdSyncs(storage: NodeStorage): { release(): Promise<void> } {
  const database = storage.database;
  const sync = database.syncWalInBackground.bind(database);
  const held: (() => void)[] = [];
  database.syncWalInBackground = (done) => sync((error) => held.push(() => done(error)));
  return {
    release: async () => {
      for (let waited = 0; held.length === 0; waited++) {
        if (waited > 500) throw new Error("no sync was started");
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      held.shift()!();
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
  };
}

describe("a node's shared database", () => {
  it("commits and syncs the passes of many groups in one macrotask once, before releasing what waits", async () => {
    const path = join(directory, `node-${++files}.sqlite`);
    const storage = openStorage(path);
    const stores = ["a/1", "b/2", "c/3"].map((scope) => ({ scope, log: new SyncNotingLogStore(storage.database, scope) }));
    const seenAtRelease: Record<string, number>[] = [];
    for (const { log } of stores) {
      storage.pass(() => log.save({ hardState: null, entries: [entry(1), entry(2)], snapshot: null }), () => log.takeMustSync());
      storage.afterTurn(() => seenAtRelease.push(committedEntries(path)));
    }
    expect(storage.pending).toBe(true);
    expect(committedEntries(path)).toEqual({}); // nothing committed inside the turn
    await storage.whenSynced();
    expect(storage.counters).toEqual({ turns: 1, passes: 3, syncs: 1 });
    expect(seenAtRelease).toEqual(Array(3).fill({ "a/1": 2, "b/2": 2, "c/3": 2 }));
    expect(storage.pending).toBe(false);
    storage.close();
  });

  it("commits a turn that only applied or moved the commit index without a sync", async () => {
    const storage = openStorage(join(directory, `node-${++files}.sqlite`));
    const log = new SyncNotingLogStore(storage.database, "a/1");
    storage.pass(() => log.save({ hardState: { term: 1, vote: 1, commit: 0 }, entries: [entry(1)], snapshot: null }), () => log.takeMustSync());
    await storage.whenSynced();
    storage.pass(() => log.save({ hardState: { term: 1, vote: 1, commit: 1 }, entries: [], snapshot: null }), () => log.takeMustSync());
    storage.pass(() => new SqliteKvStore(storage.database, "a/1").set("k", { value: new Uint8Array([1]), version: 1 }), () => false);
    await storage.whenSynced();
    expect(storage.counters).toEqual({ turns: 2, passes: 3, syncs: 1 });
    storage.close();
  });

  it("rolls a failed pass back alone: the passes before and after it in the turn are kept", async () => {
    const path = join(directory, `node-${++files}.sqlite`);
    const storage = openStorage(path);
    const [a, b, c] = ["a/1", "b/1", "c/1"].map((scope) => new SyncNotingLogStore(storage.database, scope));
    storage.pass(() => a!.save({ hardState: null, entries: [entry(1)], snapshot: null }), () => true);
    expect(() =>
      storage.pass(() => {
        b!.save({ hardState: null, entries: [entry(1)], snapshot: null });
        throw new Error("injected");
      }, () => true),
    ).toThrow("injected");
    storage.pass(() => c!.save({ hardState: null, entries: [entry(1), entry(2)], snapshot: null }), () => true);
    await storage.whenSynced();
    expect(committedEntries(path)).toEqual({ "a/1": 1, "c/1": 2 });
    storage.close();
  });

  it("releases what waits in order, after the sync that covers it, while the event loop goes on", async () => {
    const storage = openStorage(join(directory, `node-${++files}.sqlite`));
    const log = new SyncNotingLogStore(storage.database, "a/1");
    const events: string[] = [];
    storage.pass(() => log.save({ hardState: null, entries: [entry(1)], snapshot: null }), () => log.takeMustSync());
    storage.afterTurn(() => events.push("first turn synced"));
    await Promise.resolve(); // the turn commits; its sync runs on a worker thread
    expect(storage.pending).toBe(false);
    storage.pass(() => log.save({ hardState: null, entries: [entry(2)], snapshot: null }), () => log.takeMustSync());
    storage.afterTurn(() => events.push("second turn synced"));
    expect(events).toEqual([]);
    await storage.whenSynced();
    expect(events).toEqual(["first turn synced", "second turn synced"]);
    expect(storage.counters.syncs).toBe(2);
    storage.afterTurn(() => events.push("nothing to wait for"));
    expect(events.at(-1)).toBe("nothing to wait for");
    storage.close();
  });

  it("starts syncs at least syncSpacingMs apart when asked to: the tasks that run meanwhile share the held turn's commit and sync; with 0, at once", async () => {
    let spacingMs = 40;
    const path = join(directory, `node-${++files}.sqlite`);
    const storage = new NodeStorage(path, { failed: (error) => { throw error; }, syncSpacingMs: () => spacingMs });
    const [a, b, c] = ["a/1", "b/1", "c/1"].map((scope) => new SyncNotingLogStore(storage.database, scope));
    const events: string[] = [];
    const write = (log: SyncNotingLogStore, index: number, name: string) => {
      storage.pass(() => log.save({ hardState: null, entries: [entry(index)], snapshot: null }), () => log.takeMustSync());
      storage.afterTurn(() => events.push(name));
    };
    const startedMs = performance.now();
    write(a!, 1, "a1");
    await storage.whenSynced(); // the first sync starts at once: there was none before
    expect(performance.now() - startedMs).toBeLessThan(40);
    const secondMs = performance.now();
    write(b!, 1, "b1");
    await new Promise((resolve) => setTimeout(resolve, 0)); // another task
    // A pass that needs no sync joins the held turn, and what waits on it goes out with the sync.
    storage.pass(() => new SqliteKvStore(storage.database, "a/1").set("k", { value: new Uint8Array([1]), version: 1 }), () => false);
    storage.afterTurn(() => events.push("k"));
    write(c!, 1, "c1");
    expect(storage.pending).toBe(true); // the turn is held open, not committed per task
    expect(committedEntries(path)).toEqual({ "a/1": 1 });
    await storage.whenSynced();
    expect(performance.now() - secondMs).toBeGreaterThanOrEqual(30); // it waited for the spacing
    expect(events).toEqual(["a1", "b1", "k", "c1"]);
    expect(storage.counters).toEqual({ turns: 2, passes: 4, syncs: 2 });
    spacingMs = 0;
    const thirdMs = performance.now();
    write(a!, 2, "a2");
    await storage.whenSynced();
    expect(performance.now() - thirdMs).toBeLessThan(30);
    expect(storage.counters.syncs).toBe(3);
    storage.close();
  });

  it("commits the held turn and syncs when closed while a sync waits for its spacing", async () => {
    const path = join(directory, `node-${++files}.sqlite`);
    const storage = new NodeStorage(path, { failed: (error) => { throw error; }, syncSpacingMs: () => 10_000 });
    const log = new SyncNotingLogStore(storage.database, "a/1");
    storage.pass(() => log.save({ hardState: null, entries: [entry(1)], snapshot: null }), () => log.takeMustSync());
    await storage.whenSynced();
    storage.pass(() => log.save({ hardState: null, entries: [entry(2)], snapshot: null }), () => log.takeMustSync());
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(committedEntries(path)).toEqual({ "a/1": 1 });
    storage.close(); // no timer left behind (vitest would report it), the held turn committed
    expect(committedEntries(path)).toEqual({ "a/1": 2 });
  });

  it("keeps the turn open while a sync runs: later tasks' passes are one commit when it ends, covered by the next sync", async () => {
    const path = join(directory, `node-${++files}.sqlite`);
    const storage = openStorage(path);
    const syncs = holdSyncs(storage);
    const [a, b, c] = ["a/1", "b/1", "c/1"].map((scope) => new SyncNotingLogStore(storage.database, scope));
    const events: string[] = [];
    storage.pass(() => a!.save({ hardState: null, entries: [entry(1)], snapshot: null }), () => a!.takeMustSync());
    storage.afterTurn(() => events.push("a1 synced"));
    // A proposal released by the first sync (as ReplicaRuntime's whenDurable releases them).
    const released = storage.whenSynced().then(() => storage.pass(() => c!.save({ hardState: null, entries: [entry(1)], snapshot: null }), () => c!.takeMustSync()));
    await Promise.resolve();
    expect(storage.counters.turns).toBe(1); // committed at the task's end; its sync is in flight
    await new Promise((resolve) => setTimeout(resolve, 0));
    storage.pass(() => a!.save({ hardState: null, entries: [entry(2)], snapshot: null }), () => a!.takeMustSync());
    storage.afterTurn(() => events.push("a2 synced"));
    await new Promise((resolve) => setTimeout(resolve, 0));
    storage.pass(() => b!.save({ hardState: null, entries: [entry(1)], snapshot: null }), () => b!.takeMustSync());
    storage.afterTurn(() => events.push("b1 synced"));
    await new Promise((resolve) => setTimeout(resolve, 0));
    // Two more tasks ran passes: one turn, still open, not committed (a second connection sees the first turn only).
    expect(storage.counters).toEqual({ turns: 1, passes: 3, syncs: 0 });
    expect(storage.pending).toBe(true);
    expect(committedEntries(path)).toEqual({ "a/1": 1 });
    await syncs.release();
    await released;
    await Promise.resolve();
    // The first sync released its outputs; the open turn, with the proposal it released, is one commit.
    expect(events).toEqual(["a1 synced"]);
    expect(storage.counters).toEqual({ turns: 2, passes: 4, syncs: 1 });
    expect(committedEntries(path)).toEqual({ "a/1": 2, "b/1": 1, "c/1": 1 });
    await syncs.release();
    expect(events).toEqual(["a1 synced", "a2 synced", "b1 synced"]);
    expect(storage.counters).toEqual({ turns: 2, passes: 4, syncs: 2 });
    storage.close();
  });

  it("commits once what a sync's outputs write when it ends: a pass one of them runs and the proposals it released", async () => {
    const path = join(directory, `node-${++files}.sqlite`);
    const storage = openStorage(path);
    const syncs = holdSyncs(storage);
    const [a, b, c] = ["a/1", "b/1", "c/1"].map((scope) => new SyncNotingLogStore(storage.database, scope));
    storage.pass(() => a!.save({ hardState: null, entries: [entry(1)], snapshot: null }), () => a!.takeMustSync());
    // An output that runs a pass (a leader stepping the acknowledgements it held), then a proposal
    // released the way ReplicaRuntime's whenDurable releases them (a promise).
    storage.afterTurn(() => storage.pass(() => b!.save({ hardState: null, entries: [entry(1)], snapshot: null }), () => b!.takeMustSync()));
    const released = storage.whenSynced().then(() => storage.pass(() => c!.save({ hardState: null, entries: [entry(1)], snapshot: null }), () => c!.takeMustSync()));
    await Promise.resolve();
    expect(storage.counters).toEqual({ turns: 1, passes: 1, syncs: 0 });
    expect(storage.pending).toBe(false);
    await syncs.release();
    await released;
    await Promise.resolve();
    expect(storage.counters).toEqual({ turns: 2, passes: 3, syncs: 1 });
    expect(committedEntries(path)).toEqual({ "a/1": 1, "b/1": 1, "c/1": 1 });
    await syncs.release();
    expect(storage.counters.syncs).toBe(2);
    storage.close();
  });

  it("still commits and syncs the turn kept open during a sync when an output that sync released throws", async () => {
    const path = join(directory, `node-${++files}.sqlite`);
    const storage = openStorage(path);
    const syncs = holdSyncs(storage);
    const [a, b] = ["a/1", "b/1"].map((scope) => new SyncNotingLogStore(storage.database, scope));
    storage.pass(() => a!.save({ hardState: null, entries: [entry(1)], snapshot: null }), () => a!.takeMustSync());
    storage.afterTurn(() => {
      throw new Error("an output failed");
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    storage.pass(() => b!.save({ hardState: null, entries: [entry(1)], snapshot: null }), () => b!.takeMustSync());
    const released: string[] = [];
    storage.afterTurn(() => released.push("b1 synced"));
    await expect(syncs.release()).rejects.toThrow("an output failed");
    await syncs.release();
    expect(released).toEqual(["b1 synced"]);
    expect(committedEntries(path)).toEqual({ "a/1": 1, "b/1": 1 });
    expect(storage.counters).toEqual({ turns: 2, passes: 2, syncs: 2 });
    storage.close();
  });

  it("lets a leader's AppendEntries leave before the sync, and holds its other messages and any acknowledgement until it", async () => {
    const storage = openStorage(join(directory, `node-${++files}.sqlite`));
    const sent: { turnOpen: boolean; types: string[]; messages: Message[] }[] = [];
    /** Once set: the index whose early AppendEntries a follower acknowledges at once, and the commit index seen right after. */
    const race = { index: 0, commitAfterEarlyAck: -1 };
    const send = (_group: string, _from: number, to: number, messages: Message[]) => {
      sent.push({ turnOpen: storage.pending, types: messages.map((m) => m.type), messages });
      const append = messages.find((m) => m.type === "app" && m.entries.some((e) => e.index === race.index));
      if (append === undefined || !storage.pending || to !== 2) return;
      // Follower 2 acknowledges before the leader's own copy is synced: the ack must wait for it.
      queueMicrotask(() => {
        replica.receive([{ ...append, type: "appResp", from: 2, to: 1, index: race.index, entries: [], reject: false }]);
        race.commitAfterEarlyAck = replica.runtime!.node.brief().commit;
      });
    };
    const grant = (m: Message): Message => ({ ...m, type: m.type === "preVote" ? "preVoteResp" : "voteResp", from: m.to, to: m.from, reject: false, entries: [] });
    const replica = new NodeReplica({ storage, scope: "g/1", timing: {}, send, wake: () => {}, failed: () => {} });
    replica.bootstrap({ group: "g", replica: 1, voters: [1, 2, 3], locations: {}, owns: { default: true }, epoch: 1 });
    await storage.whenSynced();
    replica.runtime!.campaign();
    // Until it leads, every message waits for the turn's sync (a vote needs its term and vote on disk).
    for (let round = 0; round < 3 && replica.runtime!.node.brief().role !== "leader"; round++) {
      expect(sent).toEqual([]);
      await storage.whenSynced();
      expect(sent.length).toBeGreaterThan(0);
      expect(sent.every((batch) => !batch.turnOpen && batch.types.every((type) => type === "preVote" || type === "vote"))).toBe(true);
      const requests = sent.flatMap((batch) => batch.messages);
      sent.length = 0;
      for (const request of requests) replica.receive([grant(request)]);
    }
    await storage.whenSynced();
    expect(replica.runtime!.node.brief().role).toBe("leader");
    // The followers take the new leader's first entry, so it replicates the next one at once.
    const firstAppends = sent.flatMap((batch) => batch.messages).filter((m) => m.type === "app");
    sent.length = 0;
    for (const m of firstAppends) replica.receive([{ ...m, type: "appResp", from: m.to, to: m.from, index: m.index + m.entries.length, entries: [], reject: false }]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    sent.length = 0;
    race.index = replica.runtime!.node.brief().lastIndex + 1;
    const written = replica.runtime!.write({ clientId: "c", seq: 1, timeMs: 1, operation: { type: "put", key: "k", value: new Uint8Array([1]) } });
    const index = replica.runtime!.node.brief().lastIndex;
    expect(index).toBe(race.index);
    expect((await written).kind).toBe("applied"); // committed by follower 2's acknowledgement, once stepped
    expect(race.commitAfterEarlyAck).toBeGreaterThanOrEqual(0);
    expect(race.commitAfterEarlyAck).toBeLessThan(index); // not counted while the leader's copy was unsynced
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The entry's AppendEntries left while the turn that wrote it was still open, to both followers.
    const carrying = sent.filter((batch) => batch.messages.some((m) => m.type === "app" && m.entries.some((e) => e.index === index)));
    expect(carrying.map((batch) => batch.turnOpen)).toEqual([true, true]);
    expect(sent.every((batch) => batch.turnOpen === batch.types.every((type) => type === "app"))).toBe(true);
    replica.close();
    storage.close();
  });
  it("steps a follower's input at once while a sync is in flight, and passes over all of it once when that sync ends; its acknowledgements leave after the next", async () => {
    const storage = openStorage(join(directory, `node-${++files}.sqlite`));
    const sent: Message[] = [];
    const replica = new NodeReplica({ storage, scope: "g/2", timing: {}, send: (_group, _from, _to, messages) => sent.push(...messages), wake: () => {}, failed: () => {} });
    replica.bootstrap({ group: "g", replica: 2, voters: [1, 2, 3], locations: {}, owns: { default: true }, epoch: 1 });
    await storage.whenSynced();
    const syncs = holdSyncs(storage);
    // The bootstrap wrote entry 1 (term 1); a leader of term 2 appends one entry a message after it.
    const append = (prev: number, commit: number) => message("app", { from: 1, to: 2, term: 2, index: prev, logTerm: prev === 1 ? 1 : 2, entries: [{ ...entry(prev + 1), term: 2 }], commit });
    const acknowledged = () => Math.max(0, ...sent.filter((m) => m.type === "appResp" && !m.reject).map((m) => m.index));
    replica.receive([append(1, 1)]); // no sync in flight: a pass now, whose turn's sync starts at the task's end
    await new Promise((resolve) => setTimeout(resolve, 0));
    const { passes, turns } = storage.counters;
    for (const prev of [2, 3, 4]) {
      replica.receive([append(prev, prev)]); // each in its own task, while the sync of entry 2 runs
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    expect(storage.counters.passes).toBe(passes);
    expect(replica.runtime!.node.brief().lastIndex).toBe(5); // stepped: the engine holds the entries
    expect(acknowledged()).toBe(0);
    await syncs.release();
    // The sync of entry 2 ended: its acknowledgement left, and one pass wrote entries 3 to 5 and applied up to 4.
    expect(storage.counters.passes).toBe(passes + 1);
    await Promise.resolve();
    expect(storage.counters.turns).toBe(turns + 1); // the pass's turn, committed as the next sync starts
    expect(acknowledged()).toBe(2);
    expect(replica.runtime!.node.brief().applied).toBe(4);
    await syncs.release();
    expect(acknowledged()).toBe(5);
    replica.close();
    storage.close();
  });

  it("passes a follower's read index at once while a sync is in flight: the read it answers does not wait for the sync's end", async () => {
    const storage = openStorage(join(directory, `node-${++files}.sqlite`));
    const sent: Message[] = [];
    const replica = new NodeReplica({ storage, scope: "g/2", timing: {}, send: (_group, _from, _to, messages) => sent.push(...messages), wake: () => {}, failed: () => {} });
    replica.bootstrap({ group: "g", replica: 2, voters: [1, 2, 3], locations: {}, owns: { default: true }, epoch: 1 });
    const append = (prev: number, commit: number) => message("app", { from: 1, to: 2, term: 2, index: prev, logTerm: prev === 1 ? 1 : 2, entries: [{ ...entry(prev + 1), term: 2 }], commit });
    replica.receive([append(1, 2)]); // entry 2 of term 2, committed and applied here
    await storage.whenSynced();
    expect(replica.runtime!.node.brief().applied).toBe(2);
    const read = replica.runtime!.get("k", "linearizable");
    let answered = false;
    void read.then(() => (answered = true));
    for (let waited = 0; !sent.some((m) => m.type === "readIndex"); waited++) {
      if (waited > 100) throw new Error("the follower never asked its leader for a read index");
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const context = sent.find((m) => m.type === "readIndex")!.context;
    const syncs = holdSyncs(storage);
    replica.receive([append(2, 2)]); // entry 3: a pass now, whose sync starts at the task's end and is held
    await new Promise((resolve) => setTimeout(resolve, 0));
    const { passes } = storage.counters;
    replica.receive([append(3, 2)]); // a follower's input during the sync: only stepped
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(storage.counters.passes).toBe(passes);
    replica.receive([message("readIndexResp", { from: 1, to: 2, term: 2, index: 2, context })]);
    expect(storage.counters.passes).toBe(passes + 1); // passed now, over the append stepped before it too
    expect(replica.runtime!.node.brief().lastIndex).toBe(4);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(answered).toBe(true); // before the held sync ends: applied (2) reached the read index
    expect(await read).toMatchObject({ kind: "ok" });
    await syncs.release();
    await syncs.release();
    replica.close();
    storage.close();
  });

  it("steps at once an acknowledgement of an entry the leader has synced while later early AppendEntries are unsynced", async () => {
    const storage = openStorage(join(directory, `node-${++files}.sqlite`));
    const sent: Message[] = [];
    const replica = new NodeReplica({ storage, scope: "g/1", timing: {}, send: (_g, _f, _t, messages) => sent.push(...messages), wake: () => {}, failed: () => {} });
    replica.bootstrap({ group: "g", replica: 1, voters: [1, 2, 3], locations: {}, owns: { default: true }, epoch: 1 });
    await storage.whenSynced();
    replica.runtime!.campaign();
    for (let round = 0; round < 4 && replica.runtime!.node.brief().role !== "leader"; round++) {
      await storage.whenSynced();
      const requests = sent.splice(0);
      for (const m of requests) replica.receive([{ ...m, type: m.type === "preVote" ? "preVoteResp" : "voteResp", from: m.to, to: m.from, reject: false, entries: [] }]);
    }
    await storage.whenSynced();
    expect(replica.runtime!.node.brief().role).toBe("leader");
    const ack = (from: number, index: number): Message => ({ ...sent[0]!, type: "appResp", from, to: 1, term: replica.runtime!.node.brief().term, index, entries: [], reject: false });
    for (const m of sent.splice(0).filter((m) => m.type === "app")) replica.receive([ack(m.to, m.index + m.entries.length)]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const put = (seq: number) => replica.runtime!.write({ clientId: "c", seq, timeMs: 1, operation: { type: "put", key: `k${seq}`, value: new Uint8Array([seq]) } });
    const first = put(1);
    const firstIndex = replica.runtime!.node.brief().lastIndex;
    await storage.whenSynced(); // the leader's copy of the first entry is on disk; nobody acknowledged it yet
    expect(replica.runtime!.node.brief().commit).toBeLessThan(firstIndex);
    const second = put(2);
    const secondIndex = replica.runtime!.node.brief().lastIndex;
    expect(storage.pending).toBe(true); // the second entry's turn is open, its AppendEntries already left
    expect(sent.some((m) => m.type === "app" && m.entries.some((e) => e.index === secondIndex))).toBe(true);
    replica.receive([ack(2, firstIndex), ack(2, secondIndex)]);
    // The first entry commits now; the second only once the leader's own copy is synced.
    expect(replica.runtime!.node.brief().commit).toBe(firstIndex);
    // What it applied is synced here, so its answers need not wait for the open turn's sync.
    expect(storage.pending).toBe(true);
    expect(replica.reflectsOnlyDurable()).toBe(true);
    expect((await first).kind).toBe("applied");
    expect((await second).kind).toBe("applied");
    expect(replica.runtime!.node.brief().commit).toBeGreaterThanOrEqual(secondIndex);
    replica.close();
    storage.close();
  });
  it("tells that a one-voter group's fresh commit is not synced yet, so its answers wait for the sync", async () => {
    const storage = openStorage(join(directory, `node-${++files}.sqlite`));
    const replica = new NodeReplica({ storage, scope: "solo/1", timing: {}, send: () => {}, wake: () => {}, failed: () => {} });
    replica.bootstrap({ group: "solo", replica: 1, voters: [1], locations: {}, owns: { default: true }, epoch: 1 });
    await storage.whenSynced();
    replica.runtime!.campaign();
    await storage.whenSynced();
    expect(replica.runtime!.node.brief().role).toBe("leader");
    await new Promise((resolve) => setTimeout(resolve, 20));
    const written = replica.runtime!.write({ clientId: "c", seq: 1, timeMs: 1, operation: { type: "put", key: "k", value: new Uint8Array([1]) } });
    const index = replica.runtime!.node.brief().lastIndex;
    expect(replica.runtime!.node.brief().applied).toBe(index); // committed and applied in the pass itself
    expect(replica.reflectsOnlyDurable()).toBe(false);
    await storage.whenSynced();
    expect(replica.reflectsOnlyDurable()).toBe(true);
    expect((await written).kind).toBe("applied");
    replica.close();
    storage.close();
  });
});
