/**
 * Proves replica membership changes inside workerd, through the real Worker over real Durable
 * Objects: an added replica catches up and becomes a voter on every replica, a remove below three
 * replicas is refused with 409 tooFewReplicas, replacing the leader keeps every key and leaves the
 * new membership on every replica, ids are never reused, and a removed replica's object is retired
 * for good: client, status and Raft requests all get 410 replicaRetired.
 */
import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EdgeraftClient, type GroupDetail } from "../../src/client/index.ts";
import { encodeBatch } from "../../src/multiraft/wire.ts";

const worker = (exports as unknown as { default: { fetch(request: Request): Promise<Response> } }).default;
const admin = new EdgeraftClient({ url: "https://edgeraft.test", token: "workers-test-admin", fetch: (request) => worker.fetch(request) });
const tenant = admin.tenant("membership");
const group = "tenant-membership";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until every listed replica reports the same applied voters, `voters`, and a leader is known. */
async function settled(voters: number[]): Promise<GroupDetail> {
  let detail = await admin.groups.get(group);
  for (let round = 0; round < 200; round++) {
    const agreed = detail.health.replicas.every((replica) => JSON.stringify(replica.voters) === JSON.stringify(voters) && (replica.learners ?? []).length === 0);
    if (agreed && detail.health.leader > 0) return detail;
    await sleep(25);
    detail = await admin.groups.get(group);
  }
  throw new Error(`the group did not settle on voters ${voters}: ${JSON.stringify(detail.health)}`);
}

describe("replica membership changes", () => {
  it("add, refuse, replace the leader, and retire the removed replica for good", async () => {
    for (let i = 0; i < 30; i++) await tenant.put(`k${i}`, `v${i}`);
    await settled([1, 2, 3]);

    const added = await admin.groups.addReplica(group, { location: "weur" });
    expect(added.replica).toBe(4);
    expect(added.replicas.map((replica) => replica.id)).toEqual([1, 2, 3, 4]);
    await settled([1, 2, 3, 4]);

    const removed = await admin.groups.removeReplica(group, 3);
    expect(removed.replicas.map((replica) => replica.id)).toEqual([1, 2, 4]);
    await settled([1, 2, 4]);
    await expect(admin.groups.removeReplica(group, 2)).rejects.toMatchObject({ code: "tooFewReplicas", status: 409 });
    await expect(admin.groups.removeReplica(group, 3)).rejects.toMatchObject({ code: "replicaNotFound", status: 404 });

    const leader = (await settled([1, 2, 4])).health.leader;
    const replaced = await admin.groups.replaceReplica(group, leader);
    expect(replaced.replica).toBe(5); // 3 was removed, and its id is never given again
    const remaining = [1, 2, 4, 5].filter((id) => id !== leader);
    expect(replaced.replicas.map((replica) => replica.id).sort()).toEqual(remaining);
    const after = await settled(remaining);
    expect(remaining).toContain(after.health.leader);
    for (let i = 0; i < 30; i++) expect(new TextDecoder().decode((await tenant.get(`k${i}`))!.value)).toBe(`v${i}`);
    await tenant.put("after-replace", "yes");

    for (const retired of [3, leader]) {
      const stub = env.REPLICA.get(env.REPLICA.idFromName(`${group}/${retired}`));
      const get = await stub.fetch("https://replica/internal/get", { method: "POST", body: JSON.stringify({ epoch: 1, key: "k1", consistency: "stale" }) });
      expect([get.status, await get.json()]).toEqual([410, { kind: "replicaRetired" }]);
      const status = await stub.fetch("https://replica/internal/status");
      expect(status.status).toBe(410);
      const raft = await stub.fetch("https://replica/internal/raft", { method: "POST", body: encodeBatch({ group, from: remaining[0]!, to: retired, messages: [] }) });
      expect([raft.status, await raft.json()]).toEqual([410, { kind: "replicaRetired" }]);
    }
  });
});
