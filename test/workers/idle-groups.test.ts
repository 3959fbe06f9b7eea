/**
 * Proves inside workerd, through the real Worker over real Durable Objects, that idle groups cost
 * nothing and wake without an election: over a window of 200 ticks in which a busy group writes
 * (a control that shows the counters count) and /v1/health, /metrics and group inspections run, three
 * idle groups' replicas fire no alarm and receive no Raft message (durable per-object counters);
 * the scrapes report their last known leader. Then every replica of an idle group is evicted (as a
 * hibernated object is): a health check still elects nobody, and the first write after idle is
 * answered in the same term, with no election.
 */
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EdgeraftClient } from "../../src/client/index.ts";

const worker = (exports as unknown as { default: { fetch(request: Request): Promise<Response> } }).default;
const workerFetch = (request: Request): Promise<Response> => worker.fetch(request);
const admin = new EdgeraftClient({ url: "https://edgeraft.test", token: "workers-test-admin", fetch: workerFetch });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const idleTenants = ["idle-a", "idle-b", "idle-c"];
const replicaIds = [1, 2, 3];

type Events = { starts: number; alarms: number; raftBatches: number; raftMessages: number };
type Status = { kind: string; status: { role: string; term: number; leader: number; quiesced: boolean }; traffic: { events: Events } };

const stubOf = (group: string, id: number) => env.REPLICA.get(env.REPLICA.idFromName(`${group}/${id}`));
const statusOf = async (group: string, id: number) => (await (await stubOf(group, id).fetch("https://replica/internal/status")).json()) as Status;

/** Sums each event over the group's replicas. */
async function groupEvents(group: string): Promise<Events> {
  const sum: Events = { starts: 0, alarms: 0, raftBatches: 0, raftMessages: 0 };
  for (const id of replicaIds) {
    const events = (await statusOf(group, id)).traffic.events;
    for (const name of Object.keys(sum) as (keyof Events)[]) sum[name] += events[name];
  }
  return sum;
}

/** Waits until every replica of `group` is quiet with no alarm pending (the idle time, IDLE_AFTER_MS, passed). */
async function untilIdle(group: string): Promise<void> {
  for (let round = 0; round < 400; round++) {
    const statuses = await Promise.all(replicaIds.map((id) => statusOf(group, id)));
    const alarms = await Promise.all(replicaIds.map((id) => runInDurableObject(stubOf(group, id), (_instance, state) => state.storage.getAlarm())));
    if (statuses.every((status) => status.status.quiesced) && alarms.every((alarm) => alarm === null)) return;
    await sleep(25);
  }
  throw new Error(`${group} did not go idle`);
}

describe("idle groups", () => {
  it("fire no alarm and send no message, also while scraped, and wake without an election", async () => {
    for (const tenant of [...idleTenants, "busy"]) await admin.tenant(tenant).put("k", "v");
    for (const tenant of idleTenants) await untilIdle(`tenant-${tenant}`);
    const before = await Promise.all(idleTenants.map((tenant) => groupEvents(`tenant-${tenant}`)));
    const busyBefore = await groupEvents("tenant-busy");

    const windowEndsAt = Date.now() + 4_000; // 200 ticks of RAFT_TICK_MS 20
    let busyWrites = 0;
    const busy = (async () => {
      while (Date.now() < windowEndsAt) await admin.tenant("busy").put(`k${busyWrites++}`, "v");
    })();
    for (let scrape = 0; scrape < 3; scrape++) {
      const health = await workerFetch(new Request("https://edgeraft.test/v1/health", { headers: { authorization: "Bearer workers-test-admin" } }));
      const body = (await health.json()) as { groups: { name: string; leader: number }[] };
      for (const tenant of idleTenants) expect(body.groups.find((group) => group.name === `tenant-${tenant}`)?.leader).toBeGreaterThan(0);
      const metrics = await workerFetch(new Request("https://edgeraft.test/metrics", { headers: { authorization: "Bearer workers-test-admin" } }));
      expect(metrics.status).toBe(200);
      await metrics.text();
      expect((await admin.groups.get(`tenant-${idleTenants[scrape]}`)).health.leader).toBeGreaterThan(0);
      await sleep(1_000);
    }
    await busy;
    await sleep(Math.max(0, windowEndsAt - Date.now()));

    const after = await Promise.all(idleTenants.map((tenant) => groupEvents(`tenant-${tenant}`)));
    for (const [i, tenant] of idleTenants.entries()) {
      expect({ tenant, alarms: after[i]!.alarms - before[i]!.alarms, raftBatches: after[i]!.raftBatches - before[i]!.raftBatches })
        .toEqual({ tenant, alarms: 0, raftBatches: 0 });
    }
    const busyAfter = await groupEvents("tenant-busy");
    expect(busyWrites).toBeGreaterThan(0);
    expect(busyAfter.alarms - busyBefore.alarms).toBeGreaterThan(0); // the counters do count
    expect(busyAfter.raftBatches - busyBefore.raftBatches).toBeGreaterThan(0);

    // Hibernation: every replica of an idle group loses its memory. A health check elects nobody,
    // and the first write after idle is answered by the leader of the same term.
    const group = `tenant-${idleTenants[0]}`;
    const asleep = await Promise.all(replicaIds.map((id) => statusOf(group, id)));
    const leader = asleep.find((status) => status.status.role === "leader")!.status;
    for (const id of replicaIds) await evictDurableObject(stubOf(group, id));
    const evicted = await groupEvents(group);
    const health = await admin.groups.get(group);
    expect({ leader: health.health.leader, term: health.health.term }).toEqual({ leader: leader.leader, term: leader.term });
    await sleep(500); // 25 ticks: a woken replica with no leader would campaign in this time
    const quiet = await groupEvents(group);
    expect({ alarms: quiet.alarms - evicted.alarms, raftBatches: quiet.raftBatches - evicted.raftBatches }).toEqual({ alarms: 0, raftBatches: 0 });
    expect(quiet.starts - before[0]!.starts).toBeGreaterThanOrEqual(3); // they were really evicted and started again

    const written = await admin.tenant(idleTenants[0]!).put("k", "after idle");
    expect(written.group).toBe(group);
    // No election: every replica is still in the term the group went quiet in (a campaign, even a
    // lost one, raises the candidate's term; the pre-vote before it is counted as a Raft message).
    const woken = await Promise.all(replicaIds.map((id) => statusOf(group, id)));
    expect(woken.map((status) => status.status.term)).toEqual([leader.term, leader.term, leader.term]);
  });
});
