/**
 * Proves inside workerd that the metadata leader's leader balancer keeps its state in its
 * object's SQLite storage: locality reports sent to the real metadata leader (POST
 * /internal/report) are saved as they arrive, and after the object is evicted (its memory lost,
 * as on a restart) the balancer it makes again holds the same counts, leader, term and pass state.
 */
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EdgeraftClient } from "../../src/client/index.ts";
import type { LeaderBalancer } from "../../src/router/cluster-client/leader-balancer.ts";

const worker = (exports as unknown as { default: { fetch(request: Request): Promise<Response> } }).default;
const admin = new EdgeraftClient({ url: "https://edgeraft.test", token: "workers-test-admin", fetch: (request) => worker.fetch(request) });
const metaStub = (id: number) => env.META.get(env.META.idFromName(`meta/${id}`));
type Status = { status: { role: string } };
/** The balancer of a metadata replica object, made (from storage) if it has none in memory. */
type WithBalancer = { leaderBalancerOf(): LeaderBalancer | undefined };

describe("the leader balancer's state", () => {
  it("is saved in the metadata leader's storage and read back after the object is evicted", async () => {
    for (const tenant of ["tokyo", "paris"]) await admin.tenant(tenant).put("k", "v"); // the groups exist: a pass keeps them
    let leader = 0;
    for (let attempt = 0; attempt < 200 && leader === 0; attempt++) {
      for (const id of [1, 2, 3]) {
        const status = (await (await metaStub(id).fetch("https://meta/internal/status")).json()) as Status;
        if (status.status.role === "leader") leader = id;
      }
    }
    expect(leader).toBeGreaterThan(0);
    // Few requests (no locality preference) and leaders in two locations (nothing to spread): a pass moves nothing.
    const report = (group: string, replica: number, requests: Record<string, number>) =>
      metaStub(leader).fetch("https://meta/internal/report", { method: "POST", body: JSON.stringify({ group, locality: { group, leader: replica, term: 7, requests } }) });
    expect(await (await report("tenant-tokyo", 1, { apac: 4 })).json()).toEqual({ kind: "ok" });
    expect(await (await report("tenant-tokyo", 1, { apac: 3, weur: 1 })).json()).toEqual({ kind: "ok" });
    expect(await (await report("tenant-paris", 2, { weur: 5 })).json()).toEqual({ kind: "ok" });
    const rows = await runInDurableObject(metaStub(leader), (_instance, state) => state.storage.sql.exec("SELECT name FROM leader_balance_groups ORDER BY name").toArray().map((row) => row.name));
    expect(rows).toEqual(expect.arrayContaining(["tenant-paris", "tenant-tokyo"]));

    // Once the metadata alarm's pass has run and none is due, nothing changes the state until the next report.
    const capture = (settledOnly: boolean) => runInDurableObject(metaStub(leader), (instance) => {
      const balance = (instance as unknown as WithBalancer).leaderBalancerOf()!.balance;
      if (settledOnly && balance.nextPassAtMs(Date.now()) !== null) return undefined;
      return { tokyo: balance.savedGroup("tenant-tokyo"), paris: balance.savedGroup("tenant-paris"), passes: balance.savedPasses() };
    });
    let before = await capture(true);
    for (let attempt = 0; attempt < 300 && before === undefined; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      before = await capture(true);
    }
    expect(before?.passes.lastPassAtMs, "a pass ran").toBeGreaterThan(0);
    expect(before!.tokyo).toMatchObject({ leader: 1, term: 7, transferredAtMs: null });
    expect(before!.tokyo!.requests.apac!).toBeGreaterThan(5);
    expect(before!.paris).toMatchObject({ leader: 2, term: 7 });

    await evictDurableObject(metaStub(leader));
    expect(await capture(false)).toEqual(before);
  });
});
