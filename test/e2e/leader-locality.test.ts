/**
 * Proves leader locality end to end, on a wrangler dev of its own with fast leader balancing
 * (a pass every second, counts halving every 15 s, at most one transfer per group per 3 s): requests
 * tagged as coming from Tokyo (request.cf set through wrangler dev's MF-CF-Blob test header, which
 * the real Workers runtime never honours) move a tenant group's leader to its apac replica, then
 * requests tagged as coming from London move it to its weur replica, with no request failing; the
 * balancer's log shows exactly those two transfers: none back and forth, none of a group left idle;
 * and an operator's transfer-leader `{}` picks the replica the traffic prefers.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { e2eAdminToken, startWrangler } from "./wrangler.ts";

const tokyo = { colo: "NRT", continent: "AS", country: "JP", longitude: "139.69" };
const london = { colo: "LHR", continent: "EU", country: "GB", longitude: "-0.12" };

describe("leader locality", () => {
  it("moves a group's leader to the replica where its requests come from", async () => {
    const persistDir = mkdtempSync(join(tmpdir(), "edgeraft-locality-"));
    const running = await startWrangler({
      persistDir,
      vars: { SPLIT_KEYS: "1000000000", SPLIT_WRITES_PER_SECOND: "1000000000", LEADER_BALANCE_MS: "1000", LEADER_TRANSFER_MIN_MS: "3000", LEADER_HALF_LIFE_MS: "15000", LOG_LEVEL: "info" },
    });
    const call = (path: string, init: RequestInit & { from?: object } = {}) => {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${e2eAdminToken}`);
      if (init.from !== undefined) headers.set("mf-cf-blob", JSON.stringify(init.from));
      return fetch(`${running.url}${path}`, { ...init, headers });
    };
    const leaderOf = async (group: string) => ((await (await call(`/v1/groups/${group}`)).json()) as { health: { leader: number } }).health.leader;
    const replicaLocations = async (group: string) =>
      Object.fromEntries(((await (await call(`/v1/groups/${group}`)).json()) as { replicas: { id: number; location: string }[] }).replicas.map((replica) => [replica.location, replica.id]));
    const failures: string[] = [];
    /** Writes and reads the tenant's keys from `from` until `done()` or 60 s; answers whether done() came true. */
    const trafficUntil = async (tenant: string, from: object, done: () => Promise<boolean>) => {
      const deadline = Date.now() + 60_000;
      for (let n = 0; Date.now() < deadline; n++) {
        const path = `/v1/tenants/${tenant}/kv/k${n % 5}`;
        const response = n % 2 === 0 ? await call(path, { method: "PUT", body: `v${n}`, from }) : await call(path, { from });
        if (response.status !== 200 && response.status !== 404) failures.push(`${n}: ${response.status} ${await response.text()}`);
        else await response.arrayBuffer();
        if (n % 20 === 19 && (await done())) return true;
      }
      return false;
    };
    try {
      expect((await call("/v1/tenants/near/kv/k0", { method: "PUT", body: "v" })).status).toBe(200);
      // A group led elsewhere (enam), with one request and then none: leaderships stay even throughout, so it is left alone.
      const quiet = { name: "quiet", prefix: "quiet/", locations: ["enam", "sam", "oc"] };
      expect((await call("/v1/groups", { method: "POST", body: JSON.stringify(quiet), headers: { "content-type": "application/json" } })).status).toBe(201);
      expect((await call("/v1/kv/quiet/k0", { method: "PUT", body: "v" })).status).toBe(200);
      const places = await replicaLocations("tenant-near");
      expect(places).toEqual({ wnam: 1, weur: 2, apac: 3 });
      expect(await leaderOf("tenant-near")).toBe(1);

      const tokyoStartedAt = performance.now();
      expect(await trafficUntil("near", tokyo, async () => (await leaderOf("tenant-near")) === places.apac)).toBe(true);
      const londonStartedAt = performance.now();
      expect(await trafficUntil("near", london, async () => (await leaderOf("tenant-near")) === places.weur)).toBe(true);
      const seconds = (from: number, to: number) => ((to - from) / 1000).toFixed(1);
      console.log(`leader followed the traffic: to apac ${seconds(tokyoStartedAt, londonStartedAt)} s after Tokyo traffic began, to weur ${seconds(londonStartedAt, performance.now())} s after London traffic began`);
      expect(failures).toEqual([]);
      // The metadata group's balancer made exactly these two transfers (its log says so), none of the quiet group.
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      const transfers = running.output().split("\n").filter((line) => line.includes('"event":"leaderBalance"'))
        .map((line) => JSON.parse(line.slice(line.indexOf("{"))) as { group: string; to: number; ok: boolean });
      expect(transfers.map((transfer) => `${transfer.group} -> ${transfer.to} ${transfer.ok}`)).toEqual([`tenant-near -> ${places.apac} true`, `tenant-near -> ${places.weur} true`]);

      // An operator's {} goes where the balancer would: handed to wnam by hand, the group is sent back to weur.
      const transfer = (body: object) => call("/v1/groups/tenant-near/transfer-leader", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
      expect(await (await transfer({ to: places.wnam })).json()).toMatchObject({ leader: places.wnam });
      expect(await (await transfer({})).json()).toMatchObject({ leader: places.weur });
    } finally {
      await running.stop();
      rmSync(persistDir, { recursive: true, force: true });
    }
  });
});
