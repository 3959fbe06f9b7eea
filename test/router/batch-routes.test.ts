/**
 * Proves POST /v1/batch runs independent operations with one result each, in request order, with
 * status 200 even when some fail, and that a malformed operation rejects the whole request before
 * anything runs, by sending batches to an app over the in-memory cluster and reading the keys back.
 */
import { describe, expect, it } from "vitest";
import { batchOperationsMax } from "../../src/shared/limits.ts";
import { acmeToken, jsonOf, setup } from "./harness.ts";

function batch(operations: unknown[]): { body: string; headers: Record<string, string> } {
  return { body: JSON.stringify({ operations }), headers: { "content-type": "application/json" } };
}

describe("POST /v1/batch", () => {
  it("runs puts, gets and deletes and answers one result per operation in order", async () => {
    const { send } = setup();
    await send("PUT", "/v1/kv/old", { body: "before" });
    const response = await send(
      "POST",
      "/v1/batch",
      batch([
        { op: "put", key: "text", value: "héllo" },
        { op: "put", key: "binary", valueBase64: "AP8=" },
        { op: "get", key: "old" },
        { op: "get", key: "missing" },
        { op: "put", key: "old", value: "after", ifMatch: 1 },
        { op: "put", key: "old", value: "lost", ifMatch: 1 },
        { op: "put", key: "text", value: "again", ifNoneMatch: "*" },
        { op: "delete", key: "binary" },
        { op: "delete", key: "never" },
        { op: "delete", key: "old", ifMatch: 99 },
      ]),
    );
    expect(response.status).toBe(200);
    const { results } = await jsonOf(response);
    expect(results).toEqual([
      { op: "put", key: "text", status: 200, group: "default", version: 2 },
      { op: "put", key: "binary", status: 200, group: "default", version: 3 },
      { op: "get", key: "old", status: 200, group: "default", version: 1, value: "before", valueBase64: "YmVmb3Jl" },
      { op: "get", key: "missing", status: 404, code: "notFound", detail: 'key "missing" does not exist' },
      { op: "put", key: "old", status: 200, group: "default", version: 4 },
      expect.objectContaining({ op: "put", key: "old", status: 412, code: "conditionFailed", currentVersion: 4 }),
      expect.objectContaining({ op: "put", key: "text", status: 412, code: "conditionFailed", currentVersion: 2 }),
      { op: "delete", key: "binary", status: 200, group: "default", version: 5, deleted: true },
      { op: "delete", key: "never", status: 200, group: "default", version: 6, deleted: false },
      expect.objectContaining({ op: "delete", key: "old", status: 412, code: "conditionFailed", currentVersion: 4 }),
    ]);
    expect(await (await send("GET", "/v1/kv/old")).text()).toBe("after");
    expect(await (await send("GET", "/v1/kv/text")).text()).toBe("héllo");
  });

  it("works in a tenant's keyspace under /v1/tenants/{tenant}/batch", async () => {
    const { send } = setup();
    const response = await send("POST", "/v1/tenants/acme/batch", { ...batch([{ op: "put", key: "k", value: "v" }]), token: acmeToken });
    expect(response.status).toBe(200);
    expect((await jsonOf(response)).results[0]).toMatchObject({ status: 200, group: "tenant-acme" });
    expect(await (await send("GET", "/v1/tenants/acme/kv/k", { token: acmeToken })).text()).toBe("v");
    expect((await send("GET", "/v1/kv/k")).status).toBe(404);
  });

  it("accepts exactly batchOperationsMax operations and refuses one more", async () => {
    const { send } = setup();
    const operations = Array.from({ length: batchOperationsMax }, (_, index) => ({ op: "get", key: `k${index}` }));
    expect((await send("POST", "/v1/batch", batch(operations))).status).toBe(200);
    const over = await send("POST", "/v1/batch", batch([...operations, { op: "get", key: "one-more" }]));
    expect(over.status).toBe(400);
    expect((await jsonOf(over)).code).toBe("badRequest");
  });

  it("rejects the whole batch when one operation is malformed, and runs nothing", async () => {
    const { send, cluster } = setup();
    const cases: [unknown[], number, string][] = [
      [[{ op: "put", key: "a", value: "x" }, { op: "put", key: "b" }], 400, "badRequest"],
      [[{ op: "put", key: "a", value: "x", valueBase64: "eA==" }], 400, "badRequest"],
      [[{ op: "put", key: "a", valueBase64: "not base64!" }], 400, "badRequest"],
      [[{ op: "put", key: "a", value: "x", ifMatch: 1, ifNoneMatch: "*" }], 400, "badRequest"],
      [[{ op: "put", key: "", value: "x" }], 400, "badRequest"],
      [[{ op: "put", key: "x".repeat(1025), value: "x" }], 400, "badRequest"],
      [[{ op: "put", key: "\ud800", value: "x" }], 400, "badRequest"],
      [[{ op: "put", key: "a", value: "\udc00" }], 400, "badRequest"],
      [[{ op: "get", key: "a", ifMatch: 1 }], 400, "badRequest"],
      [[{ op: "delete", key: "a", ifNoneMatch: "*" }], 400, "badRequest"],
      [[{ op: "put", key: "a", value: "x", ifMatch: -1 }], 400, "badRequest"],
      [[{ op: "put", key: "a", value: "x", ifMatch: 1.5 }], 400, "badRequest"],
      [[{ op: "scan", key: "a" }], 400, "badRequest"],
      [[], 400, "badRequest"],
      [[{ op: "put", key: "a", value: "x".repeat(65) }], 413, "valueTooLarge"],
    ];
    const { send: sendSmall, cluster: smallCluster } = setup({ maxValueBytes: 64 });
    for (const [operations, status, code] of cases) {
      const response = await sendSmall("POST", "/v1/batch", batch(operations));
      expect(response.status, JSON.stringify(operations)).toBe(status);
      const body = await jsonOf(response);
      expect(body.code, JSON.stringify(operations)).toBe(code);
    }
    expect(smallCluster.calls.filter((call) => call.startsWith("batch"))).toEqual([]);
    expect((await send("POST", "/v1/batch", { body: JSON.stringify({ operations: [], extra: 1 }) })).status).toBe(400);
    expect(cluster.calls.filter((call) => call.startsWith("batch"))).toEqual([]);
  });

  it("names the failing operation in the detail", async () => {
    const { send } = setup();
    const response = await send("POST", "/v1/batch", batch([{ op: "get", key: "ok" }, { op: "put", key: "b" }]));
    expect((await jsonOf(response)).detail).toMatch(/^operations\.1/);
  });
});
