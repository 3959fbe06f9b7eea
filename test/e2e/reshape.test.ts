/**
 * Proves that the shared keyspace can be reshaped live through the HTTP API on wrangler dev: while
 * clients write, read and compare-and-set keys under one prefix, a prefix group is created over
 * those existing keys (a split plus a move), split at a key, part of it moved back to the default
 * group, and the two halves merged again. The recorded history must be linearizable (the
 * project's checker), no request may fail, every key ends readable with a larger version than it
 * started with, and a scan returns every key once, in order.
 */
import { describe, expect, it } from "vitest";
import { HistoryRecorder, checkHistory, describeKeyFailure } from "../../src/checker/index.ts";
import { call, callJson } from "./client.ts";
import { historyClient } from "./history-client.ts";

const keys = Array.from({ length: 24 }, (_, index) => `shop/${String.fromCharCode(97 + index)}${index}`);
const path = (key: string) => `/v1/kv/${key}`;
type View = { name: string; ranges: { start: string; end?: string }[] };

async function post<T>(url: string, body: unknown): Promise<{ status: number; body: T }> {
  return callJson<T>(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

describe("reshaping the keyspace under concurrent writes", () => {
  it("creates a group over existing keys, splits, moves and merges without losing or failing a write", async () => {
    const before = new Map<string, number>();
    const history = new HistoryRecorder();
    for (const key of keys) {
      history.invoke(98, "write", key, `initial-${key}`);
      const put = await callJson<{ version: number; group: string }>(path(key), { method: "PUT", body: `initial-${key}` });
      expect(put.status).toBe(200);
      history.complete(98, "ok");
      expect(put.body.group).toBe("default");
      before.set(key, put.body.version);
    }
    const failures: string[] = [];
    const deadline = Date.now() + 100_000;
    let operating = true;
    const clients = Array.from({ length: 4 }, (_, process) =>
      historyClient({ process, history, running: () => operating && Date.now() < deadline, keyOf: (n) => keys[(process * 7 + n) % keys.length]!, pathOf: path, failures }),
    );

    const created = await post<View>("/v1/groups", { name: "shop", prefix: "shop/" });
    expect(created.status).toBe(201);
    expect(created.body.ranges).toEqual([{ start: "shop/", end: "shop0" }]);
    const split = await post<View>("/v1/groups/shop/split", { at: "shop/m", name: "shop-hi" });
    expect(split.status).toBe(201);
    expect(split.body.ranges).toEqual([{ start: "shop/m", end: "shop0" }]);
    const repeated = await post<View>("/v1/groups/shop/split", { at: "shop/m", name: "shop-hi" }); // a retry whose first answer was lost
    expect(repeated.status).toBe(201);
    expect(repeated.body.ranges).toEqual([{ start: "shop/m", end: "shop0" }]);
    const moved = await post<{ moves: unknown[] }>("/v1/ranges/move", { start: "shop/t", end: "shop/u", to: "default" });
    expect(moved.status).toBe(200);
    expect(moved.body.moves.length).toBe(1);
    const median = await post<View>("/v1/groups/shop-hi/split", {});
    expect(median.status).toBe(201);
    const merged = await post<View>("/v1/groups/shop-hi/merge", { with: median.body.name });
    expect(merged.status).toBe(200);
    const mergedBack = await post<View>("/v1/groups/shop/merge", { with: "shop-hi" });
    expect(mergedBack.status).toBe(200);
    expect(mergedBack.body.ranges).toEqual([{ start: "shop/", end: "shop/t" }, { start: "shop/u", end: "shop0" }]);
    operating = false;
    await Promise.all(clients);

    for (const key of keys) {
      history.invoke(99, "read", key, null);
      const read = await call(path(key));
      expect(read.status).toBe(200);
      expect(Number(read.headers.get("etag")?.replaceAll('"', ""))).toBeGreaterThanOrEqual(before.get(key)!);
      history.complete(99, "ok", await read.text());
    }
    const result = checkHistory(history.operations());
    expect(result.keys.filter((k) => k.outcome === "violation").flatMap(describeKeyFailure)).toEqual([]);
    expect(result.linearizable).toBe(true);
    expect(result.operationsCount).toBeGreaterThan(50);
    expect(failures).toEqual([]);

    // Every key is still there once, in order, and each is served by the group the table names.
    const scan = await callJson<{ entries: { key: string }[] }>("/v1/kv?prefix=shop/&limit=10");
    const seen: string[] = scan.body.entries.map((entry) => entry.key);
    let cursor = (scan.body as { cursor?: string }).cursor;
    while (cursor !== undefined) {
      const page = await callJson<{ entries: { key: string }[]; cursor?: string }>(`/v1/kv?prefix=shop/&limit=10&cursor=${encodeURIComponent(cursor)}`);
      seen.push(...page.body.entries.map((entry) => entry.key));
      cursor = page.body.cursor;
    }
    expect(seen).toEqual([...keys].sort());
    const written = await callJson<{ group: string; version: number }>(path("shop/t19"), { method: "PUT", body: "after" });
    expect(written.body.group).toBe("default");
    const groups = await callJson<{ groups: View[] }>("/v1/groups");
    expect(groups.body.groups.map((group) => group.name)).not.toContain("shop-hi");
  });

  it("never reuses a removed group's name: a clear 409, not a group that cannot serve", async () => {
    for (const key of ["reuse/a", "reuse/m", "reuse/z"]) expect((await call(path(key), { method: "PUT", body: key })).status).toBe(200);
    expect((await post<View>("/v1/groups", { name: "reuse", prefix: "reuse/" })).status).toBe(201);
    expect((await post<View>("/v1/groups/reuse/split", { at: "reuse/m", name: "reuse-hi" })).status).toBe(201);
    expect((await post<View>("/v1/groups/reuse/merge", { with: "reuse-hi" })).status).toBe(200);
    const again = await post<{ code: string; detail: string }>("/v1/groups/reuse/split", { at: "reuse/m", name: "reuse-hi" });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("groupExists");
    expect(again.body.detail).toContain("cannot be used again");
    expect((await callJson(`/v1/groups/reuse-hi`)).status).toBe(404);
    for (const key of ["reuse/a", "reuse/m", "reuse/z"]) expect(await (await call(path(key))).text()).toBe(key);
  });
});
