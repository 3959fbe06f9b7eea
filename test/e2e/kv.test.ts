/**
 * Proves the v1 data-plane API end to end against a real wrangler dev: put, get with ETag,
 * compare-and-set with If-Match and If-None-Match, delete, ordered paged scans and batches.
 */
import { describe, expect, it } from "vitest";
import { call, callJson } from "./client.ts";

describe("v1 key-value API through wrangler dev", () => {
  it("puts and gets raw bytes with a version ETag", async () => {
    const put = await callJson<{ key: string; version: number; group: string }>("/v1/kv/e2e-a", { method: "PUT", body: new Uint8Array([0, 1, 2, 255]) });
    expect(put.status).toBe(200);
    expect(put.body.group).toBe("default");
    const get = await call("/v1/kv/e2e-a");
    expect(get.status).toBe(200);
    expect(get.headers.get("etag")).toBe(`"${put.body.version}"`);
    expect([...new Uint8Array(await get.arrayBuffer())]).toEqual([0, 1, 2, 255]);
    expect((await call("/v1/kv/e2e-missing")).status).toBe(404);
  });

  it("compare-and-set succeeds once and answers 412 to the loser", async () => {
    const first = await callJson<{ version: number }>("/v1/kv/e2e-cas", { method: "PUT", body: "v1" });
    const win = await call("/v1/kv/e2e-cas", { method: "PUT", body: "v2", headers: { "if-match": `"${first.body.version}"` } });
    expect(win.status).toBe(200);
    const lose = await call("/v1/kv/e2e-cas", { method: "PUT", body: "v3", headers: { "if-match": `"${first.body.version}"` } });
    expect(lose.status).toBe(412);
    expect(lose.headers.get("content-type")).toContain("application/problem+json");
    expect(await (await call("/v1/kv/e2e-cas")).text()).toBe("v2");
    expect((await call("/v1/kv/e2e-cas", { method: "PUT", body: "x", headers: { "if-none-match": "*" } })).status).toBe(412);
    expect((await call("/v1/kv/e2e-created", { method: "PUT", body: "x", headers: { "if-none-match": "*" } })).status).toBe(200);
  });

  it("deletes, with a version that keeps increasing when the key comes back", async () => {
    const put = await callJson<{ version: number }>("/v1/kv/e2e-del", { method: "PUT", body: "x" });
    const removed = await callJson<{ deleted: boolean; version: number }>("/v1/kv/e2e-del", { method: "DELETE" });
    expect(removed.body.deleted).toBe(true);
    expect((await call("/v1/kv/e2e-del")).status).toBe(404);
    const again = await callJson<{ version: number }>("/v1/kv/e2e-del", { method: "PUT", body: "y" });
    expect(again.body.version).toBeGreaterThan(removed.body.version);
    expect(removed.body.version).toBeGreaterThan(put.body.version);
  });

  it("scans in key order, page by page", async () => {
    for (const suffix of ["c", "a", "e", "b", "d"]) await call(`/v1/kv/scan-${suffix}`, { method: "PUT", body: suffix });
    const keys: string[] = [];
    let cursor: string | undefined;
    do {
      const query = new URLSearchParams({ prefix: "scan-", limit: "2", ...(cursor === undefined ? {} : { cursor }) });
      const page = await callJson<{ entries: { key: string; value: string }[]; cursor?: string }>(`/v1/kv?${query}`);
      expect(page.status).toBe(200);
      keys.push(...page.body.entries.map((e) => e.key));
      cursor = page.body.cursor;
    } while (cursor !== undefined);
    expect(keys).toEqual(["scan-a", "scan-b", "scan-c", "scan-d", "scan-e"]);
  });

  it("runs a batch of independent operations (in parallel, so unordered) with per-operation results", async () => {
    await call("/v1/kv/batch-0", { method: "PUT", body: "zero" });
    const batch = await callJson<{ results: { status: number }[] }>("/v1/batch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ operations: [
        { op: "put", key: "batch-1", value: "one" },
        { op: "put", key: "batch-2", value: "two", ifNoneMatch: "*" },
        { op: "get", key: "batch-0" },
        { op: "delete", key: "batch-404" },
        { op: "put", key: "batch-1", value: "stale", ifMatch: 999999 },
      ] }),
    });
    expect(batch.status).toBe(200);
    expect(batch.body.results.map((r) => r.status)).toEqual([200, 200, 200, 200, 412]);
  });
});
