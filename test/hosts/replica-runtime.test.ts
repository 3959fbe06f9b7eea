/**
 * Proves the host-side replica runtime over memory storage and an in-process transport: writes resolve with their applied result, reads are
 * linearizable, a follower redirects, a retried write is applied once, restart replays the log, and a
 * quiet group restarted from its quiet notes resumes its leader, counted as a resume, not an election;
 * a client at a replica that knows no leader starts an election at once, but not one at a candidate,
 * whose election goes on in its term. A replica adopted empty in a quiet group is caught up once
 * its leader is woken for it (/internal/wake), and so is one whose quiet followers trusted it as leader.
 * Time is a counter the test advances; the network is a queue the test drains.
 */
import { describe, expect, it } from "vitest";
import { ReplicaRuntime, type QuietNote } from "../../src/hosts/common/replica-runtime.ts";
import { MemoryStorage, emptyConfState } from "../../src/raft/storage.ts";
import { MemoryKvStore } from "../../src/kv/memory-store.ts";
import { KvStateMachine } from "../../src/kv/state-machine.ts";
import type { Command } from "../../src/kv/command.ts";
import type { Message } from "../../src/raft/types.ts";
import { answerReplicaRequest, type ReplicaEndpoint } from "../../src/hosts/common/replica-requests.ts";

/** A flush the test finishes by hand: whenDurable() returns `pending` until `finish()` is called. */
function manualFlushes() {
  let finish = () => {};
  let calls = 0;
  return {
    whenDurable: () => {
      calls++;
      return new Promise<void>((resolve) => (finish = resolve));
    },
    finish: () => finish(),
    get calls() {
      return calls;
    },
  };
}

function trio(options: { whenDurable?: () => Promise<void>; quietNotes?: boolean } = {}) {
  const notes = new Map<number, QuietNote | undefined>();
  let now = 1_000_000;
  const queue: { to: number; messages: Message[] }[] = [];
  const runtimes = new Map<number, ReplicaRuntime>();
  const disks = new Map<number, { log: MemoryStorage; kv: MemoryKvStore }>();
  const start = (id: number, recovering = false) => {
    const disk = disks.get(id)!;
    const runtime = new ReplicaRuntime({
      recovering,
      group: "g",
      id,
      logStore: disk.log,
      stateMachine: new KvStateMachine(disk.kv, { resume: meta.get(id) }),
      send: (to, messages) => void queue.push({ to, messages: structuredClone(messages) }),
      nowMs: () => now,
      seed: id,
      transaction: (work) => work(),
      applied: () => meta.set(id, runtimes.get(id)?.["stateMachine"].metaSnapshot()),
      ...(id === 1 && options.whenDurable !== undefined ? { whenDurable: options.whenDurable } : {}),
      ...(options.quietNotes === true ? { quietNote: { read: () => notes.get(id), write: (note: QuietNote | undefined) => void notes.set(id, note) } } : {}),
    });
    runtimes.set(id, runtime);
    return runtime;
  };
  const meta = new Map<number, Uint8Array | undefined>();
  for (const id of [1, 2, 3]) {
    disks.set(id, { log: MemoryStorage.bootstrap({ ...emptyConfState(), voters: [1, 2, 3] }), kv: new MemoryKvStore() });
    start(id);
  }
  /** Delivers until the network is empty, letting promise callbacks run between rounds. */
  const settle = async () => {
    for (let round = 0; round < 1_000; round++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (queue.length === 0) return;
      for (const { to, messages } of queue.splice(0)) runtimes.get(to)?.receive(messages);
    }
  };
  const advance = async (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      now += 100;
      for (const r of runtimes.values()) r.tick();
      await settle();
    }
  };
  /** Drains the network until `pending` resolves (ticking if the network goes quiet). */
  const until = async <T>(pending: Promise<T>): Promise<T> => {
    let done = false;
    void pending.then(() => (done = true));
    for (let round = 0; !done && round < 200; round++) {
      await settle();
      if (!done) await advance(100);
    }
    return pending;
  };
  /** Lets `ms` pass with no timer, as a host does for quiet replicas (no alarm). */
  const sleep = (ms: number) => void (now += ms);
  /** Replica `id` lost its disks and starts empty at `term`, recovering, as a Deno node adopts it (replica-adoption.ts). */
  const adoptEmpty = (id: number, term: number) => {
    const log = new MemoryStorage();
    log.save({ hardState: { term, vote: 0, commit: 0 }, entries: [], snapshot: null });
    disks.set(id, { log, kv: new MemoryKvStore() });
    meta.delete(id);
    return start(id, true);
  };
  return { runtimes, start, advance, settle, until, queue, sleep, adoptEmpty };
}

const put = (clientId: string, seq: number, key: string, value: string): Command => ({
  clientId,
  seq,
  timeMs: 1_000_000,
  operation: { type: "put", key, value: new TextEncoder().encode(value) },
});

/** `runtime` as the replica protocol serves it (answerReplicaRequest), with no identity. */
const endpoint = (runtime: ReplicaRuntime): ReplicaEndpoint => ({ identity: undefined, runtime, bootstrap: () => false, retire: () => undefined, schedule: () => undefined, traffic: () => ({}) });

describe("replica runtime", () => {
  it("a write at the leader resolves with its applied result and a follower redirects", async () => {
    const { runtimes, settle, until } = trio();
    runtimes.get(1)!.campaign();
    await settle();
    const written = await until(runtimes.get(1)!.write(put("c", 1, "k", "v")));
    expect(written).toMatchObject({ kind: "applied", result: { ok: true, type: "put", version: 1 } });
    expect(await until(runtimes.get(2)!.write(put("c", 2, "k", "w")))).toEqual({ kind: "notLeader", leader: 1 });
  });

  it("a leader that applies a write and steps down in the same pass answers it applied, not unknown", async () => {
    const { runtimes, settle, queue } = trio();
    const leader = runtimes.get(1)!;
    leader.campaign();
    await settle();
    const written = leader.write(put("c", 1, "k", "v"));
    // Only replica 2 gets the append; its acknowledgement commits the write, and in the same batch
    // replica 3 answers with a higher term, which deposes the leader.
    for (const { to, messages } of queue.splice(0)) if (to === 2) runtimes.get(2)!.receive(messages);
    const toLeader = queue.splice(0).flatMap(({ to, messages }) => (to === 1 ? messages : []));
    expect(toLeader.some((m) => m.type === "appResp")).toBe(true);
    const term = leader.node.brief().term;
    leader.receive([...toLeader, { ...toLeader[0]!, from: 3, term: term + 1, type: "heartbeatResp" }]);
    expect(leader.node.brief().role).toBe("follower");
    expect(await written).toMatchObject({ kind: "applied", result: { ok: true, type: "put", version: 1 } });
  });

  it("a linearizable read at a follower sees every acknowledged write", async () => {
    const { runtimes, settle, until } = trio();
    runtimes.get(1)!.campaign();
    await settle();
    await until(runtimes.get(1)!.write(put("c", 1, "k", "v1")));
    const read = await until(runtimes.get(3)!.get("k", "linearizable"));
    expect(read.kind).toBe("ok");
    expect(read.kind === "ok" && read.value.ok && new TextDecoder().decode(read.value.record!.value)).toBe("v1");
  });

  it("a retried write with the same session is applied once", async () => {
    const { runtimes, settle, until } = trio();
    runtimes.get(1)!.campaign();
    await settle();
    const first = await until(runtimes.get(1)!.write(put("c", 7, "k", "once")));
    const retry = await until(runtimes.get(1)!.write(put("c", 7, "k", "once")));
    expect(first.kind === "applied" && retry.kind === "applied" && retry.result).toEqual(first.kind === "applied" && first.result);
    const read = await until(runtimes.get(1)!.get("k", "linearizable"));
    expect(read.kind === "ok" && read.value.ok && read.value.record!.version).toBe(1);
  });

  it("a replica restarted from its disks replays the log and elects again", async () => {
    const { runtimes, start, advance, settle, until } = trio();
    runtimes.get(1)!.campaign();
    await settle();
    await until(runtimes.get(1)!.write(put("c", 1, "k", "durable")));
    for (const id of [1, 2, 3]) start(id); // every replica crashes and comes back
    await advance(4_000);
    const leader = [...runtimes.values()].find((r) => r.status().role === "leader");
    expect(leader).toBeDefined();
    const read = await until(leader!.get("k", "linearizable"));
    expect(read.kind === "ok" && read.value.ok && new TextDecoder().decode(read.value.record!.value)).toBe("durable");
  });

  it("a quiet group restarted from its notes resumes its leader: a resume, not an election or a leader change", async () => {
    const { runtimes, start, advance, settle, until } = trio({ quietNotes: true });
    runtimes.get(1)!.campaign();
    await settle();
    await until(runtimes.get(1)!.write(put("c", 1, "k", "before")));
    await advance(2_000); // idle: the group goes quiet and every replica notes its term and leader
    const term = runtimes.get(1)!.status().term;
    expect([1, 2, 3].map((id) => runtimes.get(id)!.status().quiesced)).toEqual([true, true, true]);
    for (const id of [1, 2, 3]) start(id); // every object lost its memory (hibernation, a restart)
    const leader = runtimes.get(1)!;
    expect(leader.status()).toMatchObject({ role: "leader", term, leader: 1 });
    expect(await until(leader.write(put("c", 2, "k", "after")))).toMatchObject({ kind: "applied" });
    for (const id of [1, 2, 3]) {
      const { electionsStarted, electionsWon, leaderChanges, quietResumes } = runtimes.get(id)!.status().metrics;
      expect({ id, electionsStarted, electionsWon, leaderChanges, quietResumes }).toEqual({ id, electionsStarted: 0, electionsWon: 0, leaderChanges: 0, quietResumes: 1 });
    }
    expect(leader.status().term).toBe(term);
  });

  it("a quiet group woken after a long spell with no timer writes with no election", async () => {
    const { runtimes, advance, settle, until, sleep } = trio();
    runtimes.get(1)!.campaign();
    await settle();
    await until(runtimes.get(1)!.write(put("c", 1, "k", "before")));
    await advance(2_000); // idle: the group goes quiet
    expect([1, 2, 3].map((id) => runtimes.get(id)!.status().quiesced)).toEqual([true, true, true]);
    const term = runtimes.get(1)!.status().term;
    const started = [1, 2, 3].map((id) => runtimes.get(id)!.status().metrics.electionsStarted);
    sleep(60_000); // a minute with no alarm: the objects stayed in memory
    expect(await until(runtimes.get(1)!.write(put("c", 2, "k", "after")))).toMatchObject({ kind: "applied" });
    for (const id of [2, 3]) runtimes.get(id)!.tick(); // the followers' timers fire before the leader's next heartbeat
    await settle();
    await advance(3_000);
    expect([1, 2, 3].map((id) => runtimes.get(id)!.status().metrics.electionsStarted)).toEqual(started);
    expect([1, 2, 3].map((id) => runtimes.get(id)!.status().term)).toEqual([term, term, term]);
    expect(runtimes.get(1)!.status().role).toBe("leader");
  });

  it("a quiet follower woken by input stepped without a pass (stepOnly) starts its timers then: a tick before its pass does not campaign", async () => {
    const { runtimes, advance, settle, until, sleep, queue } = trio();
    runtimes.get(1)!.campaign();
    await settle();
    await until(runtimes.get(1)!.write(put("c", 1, "k", "before")));
    await advance(2_000); // idle: the group goes quiet
    const follower = runtimes.get(2)!;
    expect(follower.status().quiesced).toBe(true);
    const { term } = follower.status();
    const started = follower.status().metrics.electionsStarted;
    sleep(60_000); // a minute with no timer
    const written = runtimes.get(1)!.write(put("c", 2, "k", "after")); // wakes the leader, which sends to its followers
    const toFollower = queue.filter((batch) => batch.to === 2);
    expect(toFollower.length).toBeGreaterThan(0);
    for (const batch of toFollower) queue.splice(queue.indexOf(batch), 1);
    for (const batch of toFollower) follower.stepOnly(batch.messages); // a Deno follower while its node syncs
    expect(follower.status().quiesced).toBe(false);
    follower.tick(); // its timer runs before the pass
    expect(follower.status().metrics.electionsStarted).toBe(started);
    expect(follower.status().role).toBe("follower");
    follower.receive([]); // the pass
    expect(await until(written)).toMatchObject({ kind: "applied" });
    expect(follower.status().term).toBe(term);
  });

  it("a replica adopted empty in a quiet group is caught up once its leader is woken for it (/internal/wake), and stays empty without", async () => {
    const { runtimes, advance, settle, until, adoptEmpty } = trio();
    runtimes.get(1)!.campaign();
    await settle();
    for (let seq = 1; seq <= 3; seq++) await until(runtimes.get(1)!.write(put("c", seq, `k${seq}`, "v")));
    await advance(2_000); // idle: the group goes quiet
    const leader = runtimes.get(1)!;
    expect(leader.status().quiesced).toBe(true);
    const adopted = adoptEmpty(3, leader.status().term);
    await advance(3_000);
    expect(adopted.status()).toMatchObject({ applied: 0, recovering: true }); // the quiet leader's progress still says caught up
    expect(await answerReplicaRequest(endpoint(runtimes.get(2)!), "/internal/wake", { lost: 3 })).toEqual({ status: 200, body: { ok: true, woken: false } }); // a follower of another leader
    expect(await answerReplicaRequest(endpoint(leader), "/internal/wake", { lost: "3" })).toMatchObject({ status: 400 });
    expect(await answerReplicaRequest(endpoint(leader), "/internal/wake", { lost: 3 })).toEqual({ status: 200, body: { ok: true, woken: true } });
    await advance(3_000);
    expect(adopted.status()).toMatchObject({ applied: leader.status().applied, recovering: false });
    expect(leader.status().quiesced).toBe(true); // quiet again once the replica caught up
  });

  it("the quiet followers of a leader adopted empty elect another once woken for it (/internal/wake), which catches it up", async () => {
    const { runtimes, advance, settle, until, adoptEmpty } = trio();
    runtimes.get(3)!.campaign();
    await settle();
    await until(runtimes.get(3)!.write(put("c", 1, "k", "v")));
    await advance(2_000); // idle: the group goes quiet, led by replica 3
    const term = runtimes.get(3)!.status().term;
    const adopted = adoptEmpty(3, term);
    await advance(3_000);
    expect([1, 2].map((id) => runtimes.get(id)!.status())).toMatchObject([{ leader: 3, quiesced: true }, { leader: 3, quiesced: true }]); // they trust the lost leader
    expect(await answerReplicaRequest(endpoint(runtimes.get(1)!), "/internal/wake", { lost: 2 })).toEqual({ status: 200, body: { ok: true, woken: false } }); // not its leader
    expect(await answerReplicaRequest(endpoint(runtimes.get(1)!), "/internal/wake", { lost: 3 })).toEqual({ status: 200, body: { ok: true, woken: true } });
    await advance(5_000);
    const leader = [1, 2].map((id) => runtimes.get(id)!).find((runtime) => runtime.status().role === "leader");
    expect(leader?.status().term).toBeGreaterThan(term);
    expect(adopted.status()).toMatchObject({ applied: leader!.status().applied, recovering: false });
  });

  it("an unanswerable write resolves as unknown at its deadline", async () => {
    const { runtimes, settle, advance, until } = trio();
    runtimes.get(1)!.campaign();
    await settle();
    runtimes.delete(2);
    runtimes.delete(3);
    const pending = runtimes.get(1)!.write(put("c", 1, "k", "lost?"));
    await advance(6_000);
    expect(await until(pending)).toMatchObject({ kind: "unknown" });
  });

  it("a client at a quiet follower whose leader died wakes it, and a new leader takes over", async () => {
    const { runtimes, settle, advance, until } = trio();
    runtimes.get(1)!.campaign();
    await settle();
    await until(runtimes.get(1)!.write(put("c", 1, "k", "before")));
    await advance(2_000); // idle: the group goes quiet
    expect(runtimes.get(2)!.status().quiesced).toBe(true);
    runtimes.delete(1); // the leader dies while nobody is watching
    await advance(5_000);
    expect(runtimes.get(2)!.status().leader).toBe(1); // still believed: nothing was expected of it
    expect(await runtimes.get(2)!.write(put("c", 2, "k", "after"))).toEqual({ kind: "notLeader", leader: 1 });
    await advance(4_000);
    const leader = [2, 3].map((id) => runtimes.get(id)!).find((r) => r.status().role === "leader");
    expect(leader).toBeDefined();
    expect(await until(leader!.write(put("c", 3, "k", "after")))).toMatchObject({ kind: "applied" });
  });

  it("a client at a candidate waits for its election: the group's first leader is elected in the first term", async () => {
    const { runtimes, queue, settle } = trio();
    const first = runtimes.get(1)!;
    const deliverOneRound = () => {
      for (const { to, messages } of queue.splice(0)) runtimes.get(to)?.receive(messages);
    };
    first.campaign(); // the create saga's /internal/campaign
    deliverOneRound(); // the pre-votes reach the followers
    deliverOneRound(); // their answers make replica 1 a candidate; its vote requests are on the way
    expect(first.status()).toMatchObject({ role: "candidate", term: 2 });
    // The router's first write (and a health check) meet replica 1 before the votes are back.
    expect(await first.write(put("c", 1, "k", "v"))).toEqual({ kind: "notLeader", leader: 0 });
    expect(first.status()).toMatchObject({ role: "candidate", term: 2 });
    first.campaignIfLeaderless();
    expect(first.status()).toMatchObject({ role: "candidate", term: 2 });
    await settle();
    expect(first.status()).toMatchObject({ role: "leader", term: 2 });
    expect([2, 3].map((id) => runtimes.get(id)!.status().metrics.electionsStarted)).toEqual([0, 0]);
  });

  it("a client at a follower that knows no leader starts an election at once", async () => {
    const { runtimes, start, settle, until } = trio();
    runtimes.get(1)!.campaign();
    await settle();
    await until(runtimes.get(1)!.write(put("c", 1, "k", "before")));
    for (const id of [1, 2, 3]) start(id); // every replica restarts: none knows a leader, no timer has fired
    const second = runtimes.get(2)!;
    expect(await second.write(put("c", 2, "k", "after"))).toEqual({ kind: "notLeader", leader: 0 });
    expect(second.status().role).toBe("preCandidate");
    await settle();
    expect(second.status().role).toBe("leader");
  });

  it("a leader commits in groups: proposals that arrive during a flush share the next transaction and append", async () => {
    const flushes = manualFlushes();
    const { runtimes, settle, until, queue } = trio({ whenDurable: flushes.whenDurable });
    const leader = runtimes.get(1)!;
    leader.campaign();
    flushes.finish();
    await settle();
    flushes.finish();
    await until(leader.write(put("c0", 1, "k0", "first")));
    flushes.finish();
    await settle();
    queue.length = 0;
    const before = leader.status().transactions;
    const first = leader.write(put("c1", 1, "k1", "v1")); // persisted at once; its flush stays in flight
    expect(leader.status().transactions).toBe(before + 1);
    const sent = queue.length;
    const rest = Array.from({ length: 9 }, (_, i) => leader.write(put(`c${i + 2}`, 1, `k${i + 2}`, `v${i + 2}`)));
    expect(leader.status().transactions).toBe(before + 1); // they wait in the engine
    expect(queue.length).toBe(sent);
    flushes.finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(leader.status().transactions).toBe(before + 2); // all nine in one transaction...
    const appends = queue.slice(sent).flatMap((batch) => batch.messages).filter((m) => m.type === "app" && m.entries.length > 0);
    expect(appends.map((m) => [m.to, m.entries.length])).toEqual([[2, 9], [3, 9]]); // ...and one append per follower
    for (const pending of [first, ...rest]) expect(await until(pending)).toMatchObject({ kind: "applied" });
    expect(leader.status().proposals).toBe(11);
  });
});
