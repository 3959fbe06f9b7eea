/**
 * Proves, inside workerd over real replica and metadata objects with SQLite, that a merge asked for
 * again finishes one that died after moving every range of the absorbed group and marking it
 * deleting (the router restarted between the two metadata writes of the removal). Before, the
 * group stayed "deleting" for good and every retry answered 503 "group ... is deleting" (the
 * chaos reshape scenario, seed 21851, retried for 60 s). And that the balancer's resume step
 * finishes such a removal when nobody asks again (an automatic merge that died), but never a
 * tenant's group, which is marked deleting with its data still in it. And that two removers of
 * one such group, as a merge asked for again and the resume step, both finish or find it gone (in
 * CI the later one's mark failed, and the merge answered 412).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DurableObjectDirectory } from "../../src/hosts/cloudflare/directory.ts";
import { ClusterClient } from "../../src/router/cluster-client/cluster-client.ts";
import { GroupIo } from "../../src/router/cluster-client/group-io.ts";
import { Metadata, type GroupRecord } from "../../src/router/cluster-client/metadata.ts";
import { ReplicaCaller } from "../../src/router/cluster-client/replica-caller.ts";
import { SessionPool } from "../../src/router/cluster-client/session-pool.ts";
import { call, settled } from "./worker-call.ts";


/** Setup, not under test: a prefix group `name` split at `at` into `name`-hi (then `afterSplit`), whose range then moves back to `name` and which is marked deleting, as a merge that died before its tombstone leaves it. */
async function interruptedMerge(name: string, prefix: string, at: string, afterSplit?: () => Promise<void>): Promise<Metadata> {
  expect((await call("POST", "/v1/groups", { name, prefix })).status).toBe(201);
  expect((await settled(() => call("POST", `/v1/groups/${name}/split`, { at, name: `${name}-hi` }), (answer) => answer.status === 201)).status).toBe(201);
  await afterSplit?.();
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const moved = await settled(() => call("POST", "/v1/ranges/move", { start: at, end, to: name }), (answer) => answer.status === 200);
  expect(moved.status).toBe(200);
  const caller = new ReplicaCaller(new DurableObjectDirectory(env));
  const meta = new Metadata(new GroupIo(caller, new SessionPool()), caller, ["wnam", "weur", "apac"]);
  const record = await meta.read<GroupRecord>(`groups/${name}-hi`);
  if (!record.ok || record.value === undefined) throw new Error(`${name}-hi has no record`);
  const marked = await meta.apply([Metadata.put(`groups/${name}-hi`, { ...record.value.value, state: "deleting" }, record.value.version)]);
  expect(marked.ok).toBe(true);
  return meta;
}

describe("a merge asked for again", () => {
  it("finishes removing a group that an interrupted merge left deleting", async () => {
    // What the interrupted merge did: every range of mr-hi moved to mr, then mr-hi marked deleting.
    const meta = await interruptedMerge("mr", "mr/", "mr/m", async () => {
      expect((await settled(() => call("PUT", "/v1/kv/mr%2Fz", "high"), (answer) => answer.status === 200)).json).toMatchObject({ group: "mr-hi" });
    });

    const merged = await call("POST", "/v1/groups/mr/merge", { with: "mr-hi" });
    expect(merged.status).toBe(200);
    expect(merged.json).toMatchObject({ name: "mr", ranges: [{ start: "mr/", end: "mr0" }] });
    expect((await call("GET", "/v1/groups/mr-hi")).status).toBe(404);
    const tombstone = await meta.read<GroupRecord>("groups/mr-hi");
    expect(tombstone.ok && tombstone.value?.value.state).toBe("removed");
    const read = await settled(() => call("GET", "/v1/kv/mr%2Fz"), (answer) => answer.status === 200);
    expect(read.json).toEqual({ text: "high" });
    // Asked a third time, the merge is refused as it was before: the absorbed group is gone.
    expect((await call("POST", "/v1/groups/mr/merge", { with: "mr-hi" })).json).toMatchObject({ code: "groupNotFound" });
  });
});

describe("two removers of one group left deleting", () => {
  it("both finish: they meet at the same tombstone", async () => {
    // As a merge asked for again and the balancer's resume step do, each from its own router.
    const meta = await interruptedMerge("mc", "mc/", "mc/m");
    const routers = [0, 1].map(() => new ClusterClient({ directory: new DurableObjectDirectory(env), locations: ["wnam", "weur", "apac"] }));
    const removed = await Promise.all(routers.map((router) => router.deleteGroup("mc-hi")));
    // Before, both read the deleting record at one version and the later mark failed with
    // conditionFailed (412 to a merge). A remover that comes after the other's tombstone finds no
    // group, which is right; a lost race is not.
    const codes = removed.map((answer) => (answer.ok ? "ok" : answer.error.code));
    expect(codes).toContain("ok");
    for (const code of codes) expect(["ok", "groupNotFound"]).toContain(code);
    const tombstone = await meta.read<GroupRecord>("groups/mc-hi");
    expect(tombstone.ok && tombstone.value?.value.state).toBe("removed");
    expect((await call("GET", "/v1/groups/mc")).json).toMatchObject({ state: "active", ranges: [{ start: "mc/", end: "mc0" }] });
  });

  it("a merge asked for again beside the balancer's resume step answers the merged group, or that the absorbed one is gone", async () => {
    const meta = await interruptedMerge("md", "md/", "md/m");
    const resumer = new ClusterClient({ directory: new DurableObjectDirectory(env), locations: ["wnam", "weur", "apac"] });
    const [merged] = await Promise.all([call("POST", "/v1/groups/md/merge", { with: "md-hi" }), resumer.resumeOperations()]);
    // 200 when the merge finished the removal or found it finished under way; 404 when the resume
    // step had written the tombstone before the merge looked. Never 412 or 503.
    if (merged.status === 200) expect(merged.json).toMatchObject({ name: "md", ranges: [{ start: "md/", end: "md0" }] });
    else expect({ status: merged.status, json: merged.json }).toMatchObject({ status: 404, json: { code: "groupNotFound" } });
    const tombstone = await meta.read<GroupRecord>("groups/md-hi");
    expect(tombstone.ok && tombstone.value?.value.state).toBe("removed");
    expect((await call("GET", "/v1/groups/md")).json).toMatchObject({ state: "active", ranges: [{ start: "md/", end: "md0" }] });
  });
});

describe("the balancer's resume step", () => {
  it("finishes removing a group that an interrupted merge left deleting, unasked", async () => {
    const meta = await interruptedMerge("rb", "rb/", "rb/m");
    expect((await call("GET", "/v1/groups/rb-hi")).json).toMatchObject({ state: "deleting" });
    await new ClusterClient({ directory: new DurableObjectDirectory(env), locations: ["wnam", "weur", "apac"] }).resumeOperations();
    expect((await call("GET", "/v1/groups/rb-hi")).status).toBe(404);
    const tombstone = await meta.read<GroupRecord>("groups/rb-hi");
    expect(tombstone.ok && tombstone.value?.value.state).toBe("removed");
    expect((await call("GET", "/v1/groups/rb")).json).toMatchObject({ state: "active", ranges: [{ start: "rb/", end: "rb0" }] });
  });

  it("leaves a tenant's group deleting to its operator: its data is still in it", async () => {
    expect((await settled(() => call("PUT", "/v1/tenants/rt/kv/k1", "kept"), (answer) => answer.status === 200)).status).toBe(200);
    const caller = new ReplicaCaller(new DurableObjectDirectory(env));
    const meta = new Metadata(new GroupIo(caller, new SessionPool()), caller, ["wnam", "weur", "apac"]);
    const record = await meta.read<GroupRecord>("groups/tenant-rt");
    if (!record.ok || record.value === undefined) throw new Error("tenant-rt has no record");
    expect((await meta.apply([Metadata.put("groups/tenant-rt", { ...record.value.value, state: "deleting" }, record.value.version)])).ok).toBe(true);
    await new ClusterClient({ directory: new DurableObjectDirectory(env), locations: ["wnam", "weur", "apac"] }).resumeOperations();
    const after = await meta.read<GroupRecord>("groups/tenant-rt");
    expect(after.ok && after.value?.value.state).toBe("deleting");
    // Put back as it was, the group still holds the tenant's data.
    expect((await meta.apply([Metadata.put("groups/tenant-rt", record.value.value, after.ok ? after.value!.version : 0)])).ok).toBe(true);
    expect((await settled(() => call("GET", "/v1/tenants/rt/kv/k1"), (answer) => answer.status === 200)).json).toEqual({ text: "kept" });
  });
});
