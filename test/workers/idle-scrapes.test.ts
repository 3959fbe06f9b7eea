/**
 * Proves inside workerd, through the real Worker over real Durable Objects, that GET /v1/health,
 * GET /metrics and GET /v1/groups/{name} wake no idle group: the replicas of three idle groups are
 * evicted (as hibernated objects are), then the routes are scraped three times; after each scrape
 * every one of those objects is still not running (the test runtime refuses to evict an object that
 * is not running), their durable counters show no alarm, no Raft message and no object start beyond
 * the test's own final read, every term is unchanged (no election), and health and each group's
 * inspection still name its leader, replicas, ranges and transaction counts, read from the
 * replicas' last reports (with their age). A control shows the probe sees a wake, and that a busy
 * group's inspection asks its replicas: while writes keep a group busy, its replicas run and its
 * inspection carries no report age.
 */
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EdgeraftClient } from "../../src/client/index.ts";

const worker = (exports as unknown as { default: { fetch(request: Request): Promise<Response> } }).default;
const workerFetch = (request: Request): Promise<Response> => worker.fetch(request);
const token = "workers-test-admin";
const admin = new EdgeraftClient({ url: "https://edgeraft.test", token, fetch: workerFetch });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const idleGroups = ["scrape-a", "scrape-b", "scrape-c"].map((tenant) => ({ tenant, group: `tenant-${tenant}` }));
const replicaIds = [1, 2, 3];

type Events = { starts: number; alarms: number; raftBatches: number; raftMessages: number };
type Status = { status: { role: string; term: number; leader: number; quiesced: boolean }; traffic: { events: Events } };
type GroupHealth = { name: string; leader: number; term: number; healthy: boolean; replicas: { id: number; reachable: boolean; role?: string; quiesced?: boolean; reportAgeSeconds?: number }[] };
type Health = { groups: GroupHealth[] };
type Inspection = { name: string; replicas: { id: number }[]; ranges: { start: string; end?: string }[]; health: GroupHealth; transactions?: { intents: number; records: number; replica: number } };

const stubOf = (group: string, id: number) => env.REPLICA.get(env.REPLICA.idFromName(`${group}/${id}`));
const statusOf = async (group: string, id: number) => (await (await stubOf(group, id).fetch("https://replica/internal/status")).json()) as Status;
const get = (path: string) => workerFetch(new Request(`https://edgeraft.test${path}`, { headers: { authorization: `Bearer ${token}` } }));
/** Evicts the object if it is running: "woken" when it was, "asleep" when the runtime says it is not running. */
const evict = (group: string, id: number) => evictDurableObject(stubOf(group, id)).then(() => "woken", (error: unknown) => (/not (currently )?running/i.test(String(error)) ? "asleep" : `failed: ${String(error)}`));

/** Waits until every replica of `group` is quiet with no alarm pending, and health (from the reports) shows it quiet. */
async function untilIdle(group: string): Promise<void> {
  for (let round = 0; round < 400; round++) {
    const statuses = await Promise.all(replicaIds.map((id) => statusOf(group, id)));
    const alarms = await Promise.all(replicaIds.map((id) => runInDurableObject(stubOf(group, id), (_instance, state) => state.storage.getAlarm())));
    const reported = ((await (await get("/v1/health")).json()) as Health).groups.find((candidate) => candidate.name === group);
    const reportedQuiet = reported?.replicas.every((replica) => replica.quiesced === true && replica.reportAgeSeconds !== undefined) === true;
    if (statuses.every((status) => status.status.quiesced) && alarms.every((alarm) => alarm === null) && reportedQuiet) return;
    await sleep(25);
  }
  throw new Error(`${group} did not go idle`);
}

describe("scrapes of idle groups", () => {
  it("read the last reports and wake no replica object, send nothing and elect nobody", async () => {
    for (const { tenant } of idleGroups) await admin.tenant(tenant).put("k", "v");
    for (const { group } of idleGroups) await untilIdle(group);
    const before = new Map<string, Status[]>();
    for (const { group } of idleGroups) before.set(group, await Promise.all(replicaIds.map((id) => statusOf(group, id))));
    for (const { group } of idleGroups) for (const id of replicaIds) expect(await evict(group, id)).toBe("woken");

    for (let scrape = 0; scrape < 3; scrape++) {
      const health = (await (await get("/v1/health")).json()) as Health;
      for (const { group } of idleGroups) {
        const seen = health.groups.find((candidate) => candidate.name === group)!;
        const leader = before.get(group)!.find((status) => status.status.role === "leader")!.status;
        expect({ leader: seen.leader, term: seen.term, healthy: seen.healthy }).toEqual({ leader: leader.leader, term: leader.term, healthy: true });
        for (const replica of seen.replicas) expect(replica.reportAgeSeconds).toBeGreaterThanOrEqual(0);
      }
      for (const { group } of idleGroups) {
        const inspection = (await (await get(`/v1/groups/${group}`)).json()) as Inspection;
        const statuses = before.get(group)!.map((status) => status.status);
        const leader = statuses.find((status) => status.role === "leader")!;
        expect({ replicas: inspection.replicas.map((replica) => replica.id), ranges: inspection.ranges }).toEqual({ replicas: replicaIds, ranges: [{ start: "" }] });
        expect({ leader: inspection.health.leader, term: inspection.health.term, healthy: inspection.health.healthy }).toEqual({ leader: leader.leader, term: leader.term, healthy: true });
        expect(inspection.health.replicas.map((replica) => [replica.id, replica.reachable, replica.role, replica.quiesced])).toEqual(statuses.map((status, i) => [replicaIds[i], true, status.role, true]));
        for (const replica of inspection.health.replicas) expect(replica.reportAgeSeconds).toBeGreaterThanOrEqual(0);
        expect(inspection.transactions).toEqual({ intents: 0, records: 0, replica: leader.leader });
      }
      const metrics = await get("/metrics");
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain(`group="${idleGroups[0]!.group}"`);
      await sleep(300); // 15 ticks: a woken replica would be running (and one with no leader campaigning)
      for (const { group } of idleGroups) expect(await Promise.all(replicaIds.map((id) => evict(group, id)))).toEqual(["asleep", "asleep", "asleep"]);
    }

    for (const { group } of idleGroups) {
      const after = await Promise.all(replicaIds.map((id) => statusOf(group, id)));
      const delta = (name: keyof Events) => after.reduce((sum, status, i) => sum + status.traffic.events[name] - before.get(group)![i]!.traffic.events[name], 0);
      // The only start is this read's own (after the eviction above).
      expect({ group, starts: delta("starts"), alarms: delta("alarms"), raftMessages: delta("raftMessages") }).toEqual({ group, starts: 3, alarms: 0, raftMessages: 0 });
      expect(after.map((status) => status.status.term)).toEqual(before.get(group)!.map((status) => status.status.term));
    }

    // Control: writes keep one group busy. Once its replicas reported that (health asks them then),
    // its inspection asks them too (no report age), and the probe sees them running.
    // The group quiesces at any heartbeat that finds it idle, also between two writes, and its
    // replicas report that at once; so a health check that asked the replicas may be followed by an
    // inspection that finds them quiet again (CI saw it). Four writers keep it busy, and the
    // inspection is taken again, while the writes go on, until it follows a health check that asked.
    const { tenant, group: busy } = idleGroups[0]!;
    let inspected = false;
    const writes = Promise.all(
      [0, 1, 2, 3].map(async (writer) => {
        for (let write = 0; !inspected; write++) await admin.tenant(tenant).put(`busy-${writer}-${write}`, "v");
      }),
    );
    const asked = async () => ((await (await get("/v1/health")).json()) as Health).groups.find((candidate) => candidate.name === busy)!.replicas.every((replica) => replica.reportAgeSeconds === undefined);
    let inspection: Inspection | undefined;
    for (const lookedBy = Date.now() + 20_000; Date.now() < lookedBy; await sleep(25)) {
      if (!(await asked())) continue;
      inspection = (await (await get(`/v1/groups/${busy}`)).json()) as Inspection;
      if (inspection.health.replicas.every((replica) => replica.reportAgeSeconds === undefined)) break;
    }
    inspected = true;
    if (inspection === undefined) throw new Error(`health never asked the replicas of the busy group ${busy}`);
    expect(inspection.health.replicas.map((replica) => [replica.id, replica.reachable, replica.reportAgeSeconds])).toEqual(replicaIds.map((id) => [id, true, undefined]));
    expect(inspection.health.leader).toBeGreaterThan(0);
    await writes;
    expect(await Promise.all(replicaIds.map((id) => evict(busy, id)))).toEqual(["woken", "woken", "woken"]);
  });
});
