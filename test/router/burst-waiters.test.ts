/**
 * Proves that a burst of callers on a cold cache reads the range table once, and bootstraps the
 * metadata group once, and that the callers waiting for that work go on as soon as it settles, not
 * on a later turn of their polling timers: the test's timers never run. Before, each waiter looked
 * again only when its own 10 ms timer fired, and under workerd a /v1/batch of 250 writes on a cold
 * cache came back one write every 30 ms (7 to 10 s instead of under one). And that a load that
 * never settles (its request cancelled) holds its key up for loadWaitMs, not for good.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { singleGroupTable, type RangeTable } from "../../src/multiraft/keyspace.ts";
import { Groups } from "../../src/router/cluster-client/groups.ts";
import type { GroupIo } from "../../src/router/cluster-client/group-io.ts";
import { Metadata } from "../../src/router/cluster-client/metadata.ts";
import type { ReplicaCaller } from "../../src/router/cluster-client/replica-caller.ts";

afterEach(() => {
  vi.useRealTimers();
});

/** Groups over a metadata group whose reads of the range table wait until the test answers them. */
function coldGroups(): { groups: Groups; reads: ((table: RangeTable) => void)[] } {
  const reads: ((table: RangeTable) => void)[] = [];
  const meta = {
    read: () => new Promise((resolve) => reads.push((table) => resolve({ ok: true, value: { value: table, version: 1 } }))),
  } as unknown as Metadata;
  return { groups: new Groups(meta, undefined as unknown as ReplicaCaller, undefined as unknown as GroupIo), reads };
}

async function microtasks(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await Promise.resolve();
}

describe("a burst of callers on a cold cache", () => {
  it("reads once, and every waiter has the result when the read settles", async () => {
    vi.useFakeTimers();
    const { groups, reads } = coldGroups();
    const answered: unknown[] = [];
    const callers = Array.from({ length: 50 }, () => groups.keyspace(true).then((result) => answered.push(result)));
    await microtasks();
    expect(reads).toHaveLength(1);
    const table = singleGroupTable("range", "default");
    reads[0]!(table);
    await microtasks();
    expect(answered).toHaveLength(50);
    expect(answered.every((result) => JSON.stringify(result) === JSON.stringify({ ok: true, value: table }))).toBe(true);
    expect(reads).toHaveLength(1);
    await Promise.all(callers);
  });

  it("loads again, one caller for all, when the load a waiter waited for failed", async () => {
    vi.useFakeTimers();
    let failing = true;
    const reads: string[] = [];
    const meta = {
      read: () => {
        reads.push(failing ? "failing" : "ok");
        if (failing) return Promise.reject(new Error("metadata unreachable"));
        return Promise.resolve({ ok: true, value: { value: singleGroupTable("range", "default"), version: 1 } });
      },
    } as unknown as Metadata;
    const groups = new Groups(meta, undefined as unknown as ReplicaCaller, undefined as unknown as GroupIo);
    const first = groups.keyspace(true);
    const waiters = Array.from({ length: 10 }, () => groups.keyspace(true));
    failing = false;
    await expect(first).rejects.toThrow("metadata unreachable");
    await microtasks();
    const results = await Promise.all(waiters);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(reads).toEqual(["failing", "ok"]);
  });

  it("loads again when the load it waited for never settles (a cancelled request's), and forgets that one", async () => {
    vi.useFakeTimers();
    const { groups, reads } = coldGroups();
    void groups.keyspace(true); // its read is never answered
    await microtasks();
    const waiter = groups.keyspace(true);
    await vi.advanceTimersByTimeAsync(16_000); // past loadWaitMs
    expect(reads).toHaveLength(2);
    const table = singleGroupTable("range", "default");
    reads[1]!(table);
    expect(await waiter).toEqual({ ok: true, value: table });
    const later = groups.keyspace(true); // a new load, not a wait for the stuck one
    await microtasks();
    expect(reads).toHaveLength(3);
    reads[2]!(table);
    expect(await later).toEqual({ ok: true, value: table });
  });

  it("bootstraps the metadata group once, and every waiter goes on when it is done", async () => {
    vi.useFakeTimers();
    const bootstraps: (() => void)[] = [];
    const caller = { direct: () => new Promise((resolve) => bootstraps.push(() => resolve({ ok: true }))) } as unknown as ReplicaCaller;
    const meta = new Metadata(undefined as unknown as GroupIo, caller, ["wnam"]);
    let done = 0;
    const callers = Array.from({ length: 50 }, () => meta.ensureBootstrapped().then(() => done++));
    await microtasks();
    expect(bootstraps).toHaveLength(3); // one request per metadata replica, from the first caller only
    for (const answer of bootstraps) answer();
    await microtasks();
    expect(done).toBe(50);
    expect(bootstraps).toHaveLength(3);
    await Promise.all(callers);
  });
});
