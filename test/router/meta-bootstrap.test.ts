/**
 * Proves how a router bootstraps the metadata group when some of its replicas do not answer (their
 * nodes down or starting): the bootstrap is done once a majority answered, and the replicas that
 * did not are asked again in the background, at most once a second, until they answer; with fewer
 * than a majority those that did not answer are asked again for a few seconds (a node's first
 * request can come before its connections to its peers are up), then every caller goes on (to
 * fail as the group does), and the next caller bootstraps again. Before, one round of requests counted as done whatever the answers, and
 * a Deno node's metadata replica that missed it was never founded (test/deno-cluster/staggered-start).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { GroupIo } from "../../src/router/cluster-client/group-io.ts";
import { Metadata } from "../../src/router/cluster-client/metadata.ts";
import type { ReplicaCaller } from "../../src/router/cluster-client/replica-caller.ts";

/** A metadata client whose bootstrap requests reach only the replicas in `up` (those in `refusing` answer ok: false); every request made, by replica. */
function harness(up: Set<number>, refusing = new Set<number>()) {
  const asked: number[] = [];
  const caller = {
    direct: (_group: unknown, replica: number, path: string) => {
      expect(path).toBe("/internal/bootstrap");
      asked.push(replica);
      return Promise.resolve(refusing.has(replica) ? { ok: false } : up.has(replica) ? { ok: true } : undefined);
    },
  } as unknown as ReplicaCaller;
  return { meta: new Metadata(undefined as unknown as GroupIo, caller, ["wnam"]), asked };
}

async function microtasks(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await Promise.resolve();
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("the metadata group's bootstrap", () => {
  it("is done with a majority, and asks a replica that did not answer again, at most once a second, until it does", async () => {
    const up = new Set([1, 2]);
    const { meta, asked } = harness(up);
    await meta.ensureBootstrapped();
    expect(asked.sort()).toEqual([1, 2, 3]);
    asked.length = 0;
    await meta.ensureBootstrapped();
    await microtasks();
    expect(asked).toEqual([]); // within the second
    vi.advanceTimersByTime(1_000);
    await meta.ensureBootstrapped();
    await microtasks();
    expect(asked).toEqual([3]); // only the one that did not answer
    up.add(3);
    vi.advanceTimersByTime(1_000);
    await meta.ensureBootstrapped();
    await microtasks();
    expect(asked).toEqual([3, 3]);
    vi.advanceTimersByTime(5_000);
    await meta.ensureBootstrapped();
    await microtasks();
    expect(asked).toEqual([3, 3]); // answered: never asked again
  });

  it("asks the replicas that did not answer again while under way, and is done once a majority answered (a node's first request came before its connections)", async () => {
    const up = new Set([1]);
    const { meta, asked } = harness(up);
    let done = false;
    const first = meta.ensureBootstrapped().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(asked.sort()).toEqual([1, 2, 2, 3, 3]); // a second round, for the two that did not answer
    expect(done).toBe(false);
    up.add(2);
    await vi.advanceTimersByTimeAsync(200);
    await first;
    expect(asked.sort()).toEqual([1, 2, 2, 2, 3, 3, 3]);
    asked.length = 0;
    await meta.ensureBootstrapped();
    await microtasks();
    expect(asked).toEqual([]); // done: replica 3 is asked again only in the background, after a second
  });

  it("is not done without a majority: after a few seconds of asking every caller goes on, and the next bootstraps again", async () => {
    const up = new Set([1]);
    const { meta, asked } = harness(up);
    let settled = 0;
    const callers = Array.from({ length: 5 }, () => meta.ensureBootstrapped().then(() => settled++));
    await vi.advanceTimersByTimeAsync(2_900);
    expect(settled).toBe(0); // still asking
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all(callers);
    expect(settled).toBe(5);
    expect(asked.filter((replica) => replica === 1)).toHaveLength(1); // one run for the five callers; the founded one is not asked again
    expect(asked.filter((replica) => replica === 3).length).toBeGreaterThanOrEqual(5);
    asked.length = 0;
    up.add(2);
    await meta.ensureBootstrapped();
    expect(asked.sort()).toEqual([1, 2, 3]); // a new run starts over
    await meta.ensureBootstrapped();
    await microtasks();
    expect(asked).toHaveLength(3); // done: only replica 3 is asked again, after a second
  });

  it("never asks again a replica that refused for good (another identity)", async () => {
    const { meta, asked } = harness(new Set([1, 2]), new Set([3]));
    await meta.ensureBootstrapped();
    vi.advanceTimersByTime(5_000);
    await meta.ensureBootstrapped();
    await microtasks();
    expect(asked.sort()).toEqual([1, 2, 3]);
  });

  it("does not ask again while two of three refused for good: no majority can answer", async () => {
    const { meta, asked } = harness(new Set(), new Set([2, 3]));
    await meta.ensureBootstrapped(); // settles with no timer advanced
    expect(asked.sort()).toEqual([1, 2, 3]);
  });
});
