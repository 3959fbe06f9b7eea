/**
 * Proves the typed client (src/client) against a real wrangler dev: reads with versions,
 * compare-and-set helpers and their typed conditionFailed errors, deletes, scans followed page by
 * page, batches with bytes and text, a tenant-scoped client with its own token, group
 * administration and health.
 */
import { describe, expect, it } from "vitest";
import { EdgeraftClient, EdgeraftProblem, isProblem } from "../../src/client/index.ts";
import { baseUrl } from "./client.ts";
import { e2eAdminToken } from "./wrangler.ts";

const admin = () => new EdgeraftClient({ url: baseUrl(), token: e2eAdminToken });

describe("the typed client against wrangler dev", () => {
  it("puts, gets with the version, compare-and-sets and deletes", async () => {
    const client = admin();
    const first = await client.put("tc/a", new Uint8Array([0, 255, 7]));
    const read = await client.get("tc/a");
    expect(read?.version).toBe(first.version);
    expect([...read!.value]).toEqual([0, 255, 7]);
    expect(read?.text).toBeNull();
    expect(read?.group).toBe("default");
    const swapped = await client.compareAndSet("tc/a", first.version, "second");
    expect(swapped.version).toBeGreaterThan(first.version);
    const lost = await client.compareAndSet("tc/a", first.version, "late").catch((error: unknown) => error);
    expect(isProblem(lost, "conditionFailed")).toBe(true);
    expect((lost as EdgeraftProblem).currentVersion).toBe(swapped.version);
    await expect(client.create("tc/a", "again")).rejects.toMatchObject({ code: "conditionFailed", status: 412 });
    // A stale read may lag (on a Deno node its own replica answers, which may not have applied the
    // last write yet): it shows the write once that replica has.
    let stale: string | null | undefined;
    for (let tries = 0; tries < 40 && stale !== "second"; tries++) {
      if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      stale = (await client.get("tc/a", { consistency: "stale" }))?.text;
    }
    expect(stale).toBe("second");
    const removed = await client.delete("tc/a", { ifMatch: swapped.version });
    expect(removed.deleted).toBe(true);
    expect(await client.get("tc/a")).toBeUndefined();
    expect((await client.delete("tc/a")).deleted).toBe(false);
  });

  it("updates a counter with read-modify-write under concurrent writers, losing no increment", async () => {
    const client = admin();
    const increment = () => client.update("tc/counter", (current) => String(Number(current?.text ?? "0") + 1), { attemptsMax: 50 });
    await Promise.all(Array.from({ length: 6 }, increment));
    expect((await client.get("tc/counter"))?.text).toBe("6");
  });

  it("scans every page in key order", async () => {
    const client = admin();
    const keys = Array.from({ length: 7 }, (_, index) => `tc-scan/${String(index).padStart(2, "0")}`);
    await client.batch(keys.map((key) => ({ op: "put", key, value: key.toUpperCase() })));
    const pages: number[] = [];
    for await (const page of client.scanPages({ prefix: "tc-scan/", limit: 3 })) pages.push(page.entries.length);
    expect(pages).toEqual([3, 3, 1]);
    const entries = [];
    for await (const entry of client.scan({ prefix: "tc-scan/", limit: 2 })) entries.push(entry);
    expect(entries.map((entry) => entry.key)).toEqual(keys);
    expect(entries[0]?.text).toBe("TC-SCAN/00");
  });

  it("runs batches with bytes, text and per-operation failures", async () => {
    const results = await admin().batch([
      { op: "put", key: "tc-b/bytes", value: new Uint8Array([1, 2, 250]) },
      { op: "put", key: "tc-b/text", value: "text" },
      { op: "get", key: "tc-b/missing" },
      { op: "put", key: "tc-b/text", value: "no", ifMatch: 999_999 },
    ]);
    expect(results.map((result) => result.status)).toEqual([200, 200, 404, 412]);
    expect(results[3]?.code).toBe("conditionFailed");
    const [read] = await admin().batch([{ op: "get", key: "tc-b/bytes" }]);
    expect([...read!.value!]).toEqual([1, 2, 250]);
  });

  it("scopes a client to a tenant with an issued token", async () => {
    const issued = await admin().tenants.issueToken("tc-tenant");
    const tenant = admin().tenant("tc-tenant", { token: issued.token });
    const written = await tenant.put("profile", "mine");
    expect(written.group).toBe("tenant-tc-tenant");
    expect((await tenant.get("profile"))?.text).toBe("mine");
    const outside = new EdgeraftClient({ url: baseUrl(), token: issued.token });
    await expect(outside.get("profile")).rejects.toMatchObject({ code: "forbidden", status: 403 });
    await expect(outside.groups.list()).rejects.toMatchObject({ code: "forbidden" });
  });

  it("creates, lists, inspects and removes groups, and reads health", async () => {
    const client = admin();
    const created = await client.groups.create({ name: "tc-group", prefix: "tc-group/", replicas: 3 });
    expect(created.owns).toEqual({ prefix: "tc-group/" });
    await expect(client.groups.create({ name: "tc-group", prefix: "other/" })).rejects.toMatchObject({ code: "groupExists", status: 409 });
    expect((await client.put("tc-group/1", "x")).group).toBe("tc-group");
    expect((await client.groups.list()).map((group) => group.name)).toContain("tc-group");
    const detail = await client.groups.get("tc-group");
    expect(detail.replicas.length).toBe(3);
    expect(detail.health.replicas.length).toBe(3);
    expect(detail.transactions).toMatchObject({ intents: 0, records: 0, replica: detail.health.leader });
    const health = await client.health();
    expect(health.groups.map((group) => group.name)).toContain("tc-group");
    await client.groups.remove("tc-group");
    await expect(client.groups.get("tc-group")).rejects.toMatchObject({ code: "groupNotFound", status: 404 });
    await expect(client.groups.remove("default")).rejects.toMatchObject({ code: "groupProtected" });
    expect(await new EdgeraftClient({ url: baseUrl() }).live()).toBe(true);
    await expect(new EdgeraftClient({ url: baseUrl(), token: "wrong" }).health()).rejects.toMatchObject({ code: "unauthorized" });
  });
});
