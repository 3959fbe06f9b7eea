/**
 * Proves the typed client (src/client) runs inside workerd, the Workers runtime: built with the
 * Worker's own fetch (`exports.default.fetch`, the real app over real Durable Objects), it writes,
 * compare-and-sets, scans, runs a batch and a transaction, lists groups, and maps a refused token
 * and a transaction conflict to typed errors.
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

  it("runs a transaction and maps a failed check to a txnConflict problem naming the key", async () => {
    const admin = client();
    const done = await admin.txn({ checks: [{ key: "in-workerd/t", absent: true }], writes: [{ op: "put", key: "in-workerd/t", value: "one" }, { op: "put", key: "in-workerd/u", value: new Uint8Array([1, 2]) }] });
    expect(Object.keys(done.versions).sort()).toEqual(["in-workerd/t", "in-workerd/u"]);
    const snapshot = await admin.txn({ reads: ["in-workerd/t", "in-workerd/u"] });
    expect(snapshot.reads.map((read) => read.version)).toEqual([done.versions["in-workerd/t"], done.versions["in-workerd/u"]]);
    expect(snapshot.reads[0]?.text).toBe("one");
    const conflict = await admin.txn({ checks: [{ key: "in-workerd/t", absent: true }], writes: [{ op: "delete", key: "in-workerd/t" }] }).catch((error: unknown) => error);
    expect(conflict).toMatchObject({ name: "EdgeraftProblem", code: "txnConflict", status: 409, keys: ["in-workerd/t"] });
  });
});
