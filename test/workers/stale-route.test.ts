/**
 * Proves, inside workerd over real replica and metadata objects with SQLite, that the router's
 * MoveDriver cannot give a span back to a group that handed it on: a driver stops with its saga
 * recorded at the route step; another driver finishes that saga and a second saga moves the span
 * on; then the stale driver wakes with its old copy and runs the route step again. Its step reads
 * what the target serves (nothing of the span any more), so the range table keeps naming the
 * group that serves the span, its record write loses the race and it reports the saga done.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DurableObjectDirectory } from "../../src/hosts/cloudflare/directory.ts";
import { lookupKey, type RangeTable } from "../../src/multiraft/keyspace.ts";
import { startMove, type MoveSaga } from "../../src/multiraft/move-saga.ts";
import { GroupIo } from "../../src/router/cluster-client/group-io.ts";
import { Groups } from "../../src/router/cluster-client/groups.ts";
import { Metadata } from "../../src/router/cluster-client/metadata.ts";
import { MoveDriver } from "../../src/router/cluster-client/move-driver.ts";
import { ReplicaCaller } from "../../src/router/cluster-client/replica-caller.ts";
import { SessionPool } from "../../src/router/cluster-client/session-pool.ts";
import type { ClusterResult } from "../../src/router/cluster.ts";
import { call, settled } from "./worker-call.ts";


/** The router's metadata access and move drivers over the real objects, as ClusterClient wires them. */
function router(): { meta: Metadata; driver: () => MoveDriver } {
  const caller = new ReplicaCaller(new DurableObjectDirectory(env));
  const io = new GroupIo(caller, new SessionPool());
  const meta = new Metadata(io, caller, ["wnam", "weur", "apac"]);
  const groups = new Groups(meta, caller, io);
  return { meta, driver: () => new MoveDriver({ meta, io, caller, record: (name) => groups.get(name), tableChanged: () => groups.invalidate() }) };
}

/** Setup: a prefix group holding its prefix (its create saga finished by a move if the first answer was lost). */
async function prefixGroup(name: string, prefix: string): Promise<void> {
  const created = await call("POST", "/v1/groups", { name, prefix });
  if (created.status === 201) return;
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const moved = await settled(() => call("POST", "/v1/ranges/move", { start: prefix, end, to: name }), (answer) => answer.status === 200);
  expect(moved.status).toBe(200);
}

/** The shared keyspace's range table and its version. */
async function table(meta: Metadata): Promise<{ value: RangeTable; version: number }> {
  const read = await meta.read<RangeTable>("keyspace");
  if (!read.ok || read.value === undefined) throw new Error("no range table");
  return read.value;
}

describe("a stale move driver", () => {
  it("routes nothing when it runs the route step again after the span moved on", async () => {
    await prefixGroup("stale-b", "st/");
    await prefixGroup("stale-c", "sc/");
    expect((await settled(() => call("PUT", "/v1/kv/st%2F1", "one"), (answer) => answer.status === 200)).json).toMatchObject({ group: "stale-b" });
    const { meta, driver } = router();
    const span = { start: "st/", end: "st0" };
    const phaseOf = async (id: string) => {
      const read = await meta.read<{ saga: MoveSaga }>(`sagas/${id}`);
      return read.ok ? read.value?.value.saga.phase : undefined;
    };
    /** Setup: resumes saga `id` (stopping before `haltBefore`) until it reaches `phase`, should a busy machine have let a step time out. */
    const resumeUntil = (id: string, phase: string, haltBefore?: "route") =>
      settled(async () => {
        const resumer = driver();
        resumer.haltBefore = haltBefore;
        await resumer.resumeStale(true);
        return phaseOf(id);
      }, (reached) => reached === phase);

    // m1 moves the span stale-b -> stale-c; its driver stops before the route step (its record says route).
    const stale = driver();
    stale.haltBefore = "route";
    const halted = await stale.run(startMove("stale-m1", span, "stale-b", "stale-c"));
    expect(halted.ok).toBe(false);
    if ((await phaseOf("stale-m1")) !== "route") await resumeUntil("stale-m1", "route", "route");
    const recorded = await meta.read<{ saga: MoveSaga }>("sagas/stale-m1");
    if (!recorded.ok || recorded.value === undefined) throw new Error("m1 is not recorded");
    expect(recorded.value.value.saga.phase).toBe("route");
    const staleCopy = { saga: recorded.value.value.saga, version: recorded.value.version };

    // Another driver finishes m1, then m2 moves the span on, back to stale-b.
    await resumeUntil("stale-m1", "done");
    expect(await phaseOf("stale-m1")).toBe("done");
    expect(lookupKey((await table(meta)).value, "st/1").group).toBe("stale-c");
    const back = await driver().run(startMove("stale-m2", span, "stale-c", "stale-b"));
    if (!back.ok) await resumeUntil("stale-m2", "done");
    expect(await phaseOf("stale-m2")).toBe("done");
    const before = await table(meta);
    expect(lookupKey(before.value, "st/1").group).toBe("stale-b");

    // The stale driver wakes with m1 at route: the table keeps naming stale-b, and it learns m1 is done.
    const drive = (stale as unknown as { drive(saga: MoveSaga, version: number): Promise<ClusterResult<MoveSaga>> }).drive.bind(stale);
    const woke = await settled(() => drive(staleCopy.saga, staleCopy.version), (answer) => answer.ok); // retried with the same stale copy if a call timed out
    expect(woke).toMatchObject({ ok: true, value: { id: "stale-m1", phase: "done" } });
    const after = await table(meta);
    expect(after.value).toEqual(before.value); // the same ranges at the same epoch
    expect(after.version).toBeGreaterThan(before.version); // written all the same: that write fences older route reads
    expect((await settled(() => call("PUT", "/v1/kv/st%2F1", "two"), (answer) => answer.status === 200)).json).toMatchObject({ group: "stale-b" });
    expect((await settled(() => call("GET", "/v1/kv/st%2F1"), (answer) => answer.status === 200)).json).toEqual({ text: "two" });
  });
});
