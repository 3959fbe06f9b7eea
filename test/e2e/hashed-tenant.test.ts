/**
 * Proves hash-routed keyspaces end to end on wrangler dev: a tenant created hashed over three
 * groups spreads its keys over all of them; point operations, batches and paged scans (fanned out
 * and merged, with a cursor) work through a tenant token; adding a fourth group moves only its share
 * of slots, after which every key is still there once with its version, and the new group takes
 * writes; none of its groups can be removed (its slots would be served by nobody). A tenant
 * already served by one group cannot be made hashed.
 */
import { describe, expect, it } from "vitest";
import { call, callJson } from "./client.ts";

const tenant = "hashy";
const keys = Array.from({ length: 160 }, (_, index) => `item-${String(index).padStart(3, "0")}`);
const json = { "content-type": "application/json" };
type View = { name: string; ranges: { start: string; end?: string }[]; hashed?: boolean };

async function scanAll(token: string, limit: number): Promise<{ key: string; version: number }[]> {
  const seen: { key: string; version: number }[] = [];
  let cursor: string | undefined;
  do {
    const page = await callJson<{ entries: { key: string; version: number }[]; cursor?: string }>(
      `/v1/tenants/${tenant}/kv?limit=${limit}${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`,
      { token },
    );
    expect(page.status).toBe(200);
    seen.push(...page.body.entries.map(({ key, version }) => ({ key, version })));
    cursor = page.body.cursor;
  } while (cursor !== undefined);
  return seen;
}

describe("a hashed tenant keyspace", () => {
  it("spreads keys over its groups, scans in order, and grows by moving only its share", async () => {
    const created = await callJson<{ mode: string; groups: View[] }>(`/v1/tenants/${tenant}`, { method: "PUT", headers: json, body: JSON.stringify({ mode: "hash", groups: 3 }) });
    expect(created.status).toBe(201);
    expect(created.body.groups.map((group) => group.name)).toEqual([`tenant-${tenant}-h1`, `tenant-${tenant}-h2`, `tenant-${tenant}-h3`]);
    expect((await call(`/v1/tenants/${tenant}`, { method: "PUT", headers: json, body: JSON.stringify({ mode: "hash", groups: 3 }) })).status).toBe(201); // idempotent
    expect((await call(`/v1/tenants/${tenant}`, { method: "PUT", headers: json, body: JSON.stringify({ mode: "hash", groups: 5 }) })).status).toBe(409);
    const token = (await callJson<{ token: string }>(`/v1/tenants/${tenant}/tokens`, { method: "POST" })).body.token;

    const versions = new Map<string, number>();
    const perGroup = new Map<string, number>();
    for (const key of keys) {
      const put = await callJson<{ version: number; group: string }>(`/v1/tenants/${tenant}/kv/${key}`, { method: "PUT", body: `v-${key}`, token });
      expect(put.status).toBe(200);
      versions.set(key, put.body.version);
      perGroup.set(put.body.group, (perGroup.get(put.body.group) ?? 0) + 1);
    }
    expect([...perGroup.keys()].sort()).toEqual(created.body.groups.map((group) => group.name));
    for (const count of perGroup.values()) expect(count).toBeGreaterThan(25);

    const batch = await callJson<{ results: { status: number; group: string }[] }>(`/v1/tenants/${tenant}/batch`, {
      method: "POST",
      headers: json,
      token,
      body: JSON.stringify({ operations: keys.slice(0, 30).map((key) => ({ op: "get", key })) }),
    });
    expect(batch.body.results.every((result) => result.status === 200)).toBe(true);
    expect(await scanAll(token, 37)).toEqual(keys.map((key) => ({ key, version: versions.get(key) })));

    const added = await callJson<View>(`/v1/tenants/${tenant}/groups`, { method: "POST" });
    expect(added.status).toBe(201);
    expect(added.body.name).toBe(`tenant-${tenant}-h4`);
    const slots = added.body.ranges.reduce((sum, range) => sum + parseInt(range.end ?? "1000", 16) - parseInt(range.start, 16), 0);
    expect(slots).toBe(1024); // a quarter of 4,096 slots
    expect(await scanAll(token, 50)).toEqual(keys.map((key) => ({ key, version: versions.get(key) })));

    let landedInNewGroup = 0;
    for (const key of keys) {
      const put = await callJson<{ version: number; group: string }>(`/v1/tenants/${tenant}/kv/${key}`, { method: "PUT", body: "again", token });
      expect(put.body.version).toBeGreaterThan(versions.get(key)!);
      if (put.body.group === added.body.name) landedInNewGroup += 1;
    }
    expect(landedInNewGroup).toBeGreaterThan(20);

    // A group of the keyspace cannot be removed: nobody else would serve its slots.
    const removal = await callJson<{ code: string }>(`/v1/groups/${added.body.name}`, { method: "DELETE" });
    expect([removal.status, removal.body.code]).toEqual([409, "groupProtected"]);
    expect(await scanAll(token, 80)).toHaveLength(keys.length);

    await call(`/v1/tenants/single/kv/x`, { method: "PUT", body: "one group" });
    const refused = await call(`/v1/tenants/single`, { method: "PUT", headers: json, body: JSON.stringify({ mode: "hash", groups: 2 }) });
    expect(refused.status).toBe(400);
  });
});
