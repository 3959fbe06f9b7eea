/**
 * Proves, inside workerd over real replica and metadata objects with SQLite, that the router's
 * MoveDriver cannot give a span back to a group that handed it on: a driver stops with its saga
 * recorded at the route step; another driver finishes that saga and a second saga moves the span
 * on; then the stale driver wakes with its old copy and runs the route step again. Its step reads
 * what the target serves (nothing of the span any more), so the range table keeps naming the
 * group that serves the span, its record write loses the race and it reports the saga done.
 */
import { env, exports } from "cloudflare:workers";
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

const worker = (exports as unknown as { default: { fetch(request: Request): Promise<Response> } }).default;
const token = "workers-test-admin";

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await worker.fetch(new Request(`https://edgeraft.test${path}`, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) }));
  const text = await response.text();
  return { status: response.status, json: text.startsWith("{") ? JSON.parse(text) : { text } };
}

/** The router's metadata access and move drivers over the real objects, as ClusterClient wires them. */
function router(): { meta: Metadata; driver: () => MoveDriver } {
  const caller = new ReplicaCaller(new DurableObjectDirectory(env));
  const io = new GroupIo(caller, new SessionPool());
  const meta = new Metadata(io, caller, ["wnam", "weur", "apac"]);
  const groups = new Groups(meta, caller, io);
  return { meta, driver: () => new MoveDriver({ meta, io, caller, record: (name) => groups.get(name), tableChanged: () => groups.invalidate() }) };
}

/** The shared keyspace's range table and its version. */
async function table(meta: Metadata): Promise<{ value: RangeTable; version: number }> {
  const read = await meta.read<RangeTable>("keyspace");
  if (!read.ok || read.value === undefined) throw new Error("no range table");
  return read.value;
}

describe("a stale move driver", () => {
  it("routes nothing when it runs the route step again after the span moved on", async () => {
    expect((await call("POST", "/v1/groups", { name: "stale-b", prefix: "st/" })).status).toBe(201);
    expect((await call("POST", "/v1/groups", { name: "stale-c", prefix: "sc/" })).status).toBe(201);
    expect((await call("PUT", "/v1/kv/st%2F1", "one")).json).toMatchObject({ group: "stale-b" });
    const { meta, driver } = router();
    const span = { start: "st/", end: "st0" };

    // m1 moves the span stale-b -> stale-c; its driver stops before the route step (its record says route).
    const stale = driver();
    stale.haltBefore = "route";
    const halted = await stale.run(startMove("stale-m1", span, "stale-b", "stale-c"));
    expect(halted.ok).toBe(false);
    const recorded = await meta.read<{ saga: MoveSaga }>("sagas/stale-m1");
    if (!recorded.ok || recorded.value === undefined) throw new Error("m1 is not recorded");
    expect(recorded.value.value.saga.phase).toBe("route");
    const staleCopy = { saga: recorded.value.value.saga, version: recorded.value.version };

    // Another driver finishes m1, then m2 moves the span on, back to stale-b.
    const other = driver();
    await other.resumeStale(true);
    expect(lookupKey((await table(meta)).value, "st/1").group).toBe("stale-c");
    const back = await other.run(startMove("stale-m2", span, "stale-c", "stale-b"));
    expect(back).toMatchObject({ ok: true, value: { phase: "done" } });
    const before = await table(meta);
    expect(lookupKey(before.value, "st/1").group).toBe("stale-b");

    // The stale driver wakes with m1 at route: the table keeps naming stale-b, and it learns m1 is done.
    const drive = (stale as unknown as { drive(saga: MoveSaga, version: number): Promise<ClusterResult<MoveSaga>> }).drive.bind(stale);
    const woke = await drive(staleCopy.saga, staleCopy.version);
    expect(woke).toMatchObject({ ok: true, value: { id: "stale-m1", phase: "done" } });
    const after = await table(meta);
    expect(after.value).toEqual(before.value); // the same ranges at the same epoch
    expect(after.version).toBeGreaterThan(before.version); // written all the same: that write fences older route reads
    expect((await call("PUT", "/v1/kv/st%2F1", "two")).json).toMatchObject({ group: "stale-b" });
    expect((await call("GET", "/v1/kv/st%2F1")).json).toEqual({ text: "two" });
  });
});
