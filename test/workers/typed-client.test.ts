/**
 * Proves the typed client (src/client) runs inside workerd, the Workers runtime: built with the
 * Worker's own fetch (`exports.default.fetch`, the real app over real Durable Objects), it writes,
 * compare-and-sets, scans, runs a batch and lists groups, and maps a refused token to a typed error.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EdgeraftClient, isProblem } from "../../src/client/index.ts";

/** The Worker's own entry (wrangler.toml `main`); the plugin's types do not declare its shape. */
const worker = (exports as unknown as { default: { fetch(request: Request): Promise<Response> } }).default;
const workerFetch = (request: Request): Promise<Response> => worker.fetch(request);
const client = (token = "workers-test-admin") => new EdgeraftClient({ url: "https://edgeraft.test", token, fetch: workerFetch });

describe("the typed client inside workerd", () => {
  it("writes, compare-and-sets, scans and batches through the Worker", async () => {
    const admin = client();
    const first = await admin.put("in-workerd/a", "one");
    expect((await admin.compareAndSet("in-workerd/a", first.version, "two")).version).toBeGreaterThan(first.version);
    const stale = await admin.compareAndSet("in-workerd/a", first.version, "three").catch((error: unknown) => error);
    expect(isProblem(stale, "conditionFailed")).toBe(true);
    await admin.batch([{ op: "put", key: "in-workerd/b", value: new Uint8Array([9, 8, 7]) }]);
    const keys: string[] = [];
    for await (const entry of admin.scan({ prefix: "in-workerd/", limit: 1 })) keys.push(entry.key);
    expect(keys).toEqual(["in-workerd/a", "in-workerd/b"]);
    expect([...(await admin.get("in-workerd/b"))!.value]).toEqual([9, 8, 7]);
    expect((await admin.groups.list()).map((group) => group.name)).toContain("default");
    await expect(client("wrong-token").get("in-workerd/a")).rejects.toMatchObject({ name: "EdgeraftProblem", code: "unauthorized", status: 401 });
  });
});
