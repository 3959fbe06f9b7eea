/**
 * Proves the key routes serve GET/PUT/DELETE and scans with the documented HTTP semantics (raw
 * bytes, ETag versions, If-Match compare-and-set, If-None-Match create-only, 412 with the current
 * version) in the shared keyspace and in tenant keyspaces, by sending requests to an app over the
 * in-memory cluster.
 */
import { describe, expect, it } from "vitest";
import { acmeToken, bytes, jsonOf, setup } from "./harness.ts";

describe("GET, PUT and DELETE /v1/kv/{key}", () => {
  it("stores raw bytes and reads them back with an ETag and the owning group", async () => {
    const { send } = setup();
    const value = new Uint8Array([0, 255, 1, 254, 10]);
    const put = await send("PUT", "/v1/kv/greeting", { body: value, headers: { "content-type": "image/png" } });
    expect(put.status).toBe(200);
    const written = await jsonOf(put);
    expect(written).toEqual({ key: "greeting", version: 1, group: "default" });
    expect(put.headers.get("etag")).toBe('"1"');
    const get = await send("GET", "/v1/kv/greeting");
    expect(get.status).toBe(200);
    expect(get.headers.get("content-type")).toBe("application/octet-stream");
    expect(get.headers.get("etag")).toBe('"1"');
    expect(get.headers.get("x-edgeraft-group")).toBe("default");
    expect(new Uint8Array(await get.arrayBuffer())).toEqual(value);
  });

  it("answers HEAD like GET without a body", async () => {
    const { send } = setup();
    await send("PUT", "/v1/kv/k", { body: "v" });
    const head = await send("HEAD", "/v1/kv/k");
    expect(head.status).toBe(200);
    expect(head.headers.get("etag")).toBe('"1"');
    expect(await head.text()).toBe("");
  });

  it("answers 404 notFound as a problem for an absent key", async () => {
    const { send } = setup();
    const response = await send("GET", "/v1/kv/missing");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await jsonOf(response)).toMatchObject({ type: "https://edgeraft.dev/problems/notFound", title: "Key not found", status: 404, code: "notFound" });
  });

  it("accepts an empty value", async () => {
    const { send } = setup();
    expect((await send("PUT", "/v1/kv/empty")).status).toBe(200);
    const get = await send("GET", "/v1/kv/empty");
    expect(get.status).toBe(200);
    expect((await get.arrayBuffer()).byteLength).toBe(0);
  });

  it("gives every write a higher version", async () => {
    const { send } = setup();
    const versions: number[] = [];
    for (const value of ["a", "b", "c"]) versions.push((await jsonOf(await send("PUT", "/v1/kv/k", { body: value }))).version);
    expect(versions).toEqual([1, 2, 3]);
  });

  it("deletes a key and reports whether it existed", async () => {
    const { send } = setup();
    await send("PUT", "/v1/kv/k", { body: "v" });
    const first = await send("DELETE", "/v1/kv/k");
    expect(first.status).toBe(200);
    expect(await jsonOf(first)).toMatchObject({ key: "k", deleted: true, group: "default" });
    expect((await send("GET", "/v1/kv/k")).status).toBe(404);
    const second = await send("DELETE", "/v1/kv/k");
    expect(second.status).toBe(200);
    expect(await jsonOf(second)).toMatchObject({ key: "k", deleted: false });
  });
});

describe("keys in the path", () => {
  it("takes the rest of the path as the key, so a raw slash and %2F address the same key", async () => {
    const { send } = setup();
    await send("PUT", "/v1/kv/a/b", { body: "raw slash" });
    expect(await (await send("GET", "/v1/kv/a%2Fb")).text()).toBe("raw slash");
    const written = await jsonOf(await send("PUT", "/v1/kv/a%2Fb", { body: "encoded" }));
    expect(written.key).toBe("a/b");
    expect(await (await send("GET", "/v1/kv/a/b")).text()).toBe("encoded");
  });

  it("decodes UTF-8 keys and keeps empty segments", async () => {
    const { send } = setup();
    const written = await jsonOf(await send("PUT", `/v1/kv/${encodeURIComponent("café ☕ 𝄞")}`, { body: "x" }));
    expect(written.key).toBe("café ☕ 𝄞");
    expect((await jsonOf(await send("PUT", "/v1/kv/a//b", { body: "x" }))).key).toBe("a//b");
    expect((await jsonOf(await send("PUT", "/v1/kv/1+1", { body: "x" }))).key).toBe("1+1");
  });

  it("accepts a key of exactly 1024 UTF-8 bytes", async () => {
    const { send } = setup();
    const key = "é".repeat(512);
    expect((await send("PUT", `/v1/kv/${encodeURIComponent(key)}`, { body: "x" })).status).toBe(200);
  });
});

describe("conditional writes", () => {
  it("If-Match with the current version succeeds and a stale one is 412 with the current version", async () => {
    const { send } = setup();
    await send("PUT", "/v1/kv/k", { body: "one" });
    const swapped = await send("PUT", "/v1/kv/k", { body: "two", headers: { "if-match": '"1"' } });
    expect(swapped.status).toBe(200);
    expect(swapped.headers.get("etag")).toBe('"2"');
    const stale = await send("PUT", "/v1/kv/k", { body: "three", headers: { "if-match": '"1"' } });
    expect(stale.status).toBe(412);
    expect(stale.headers.get("etag")).toBe('"2"');
    expect(await jsonOf(stale)).toMatchObject({ code: "conditionFailed", status: 412, currentVersion: 2 });
    expect(await (await send("GET", "/v1/kv/k")).text()).toBe("two");
  });

  it("If-Match on an absent key is 412 with currentVersion 0 and no ETag", async () => {
    const { send } = setup();
    const response = await send("PUT", "/v1/kv/absent", { body: "x", headers: { "if-match": '"5"' } });
    expect(response.status).toBe(412);
    expect(response.headers.get("etag")).toBeNull();
    expect((await jsonOf(response)).currentVersion).toBe(0);
  });

  it("If-None-Match: * creates once and then is 412", async () => {
    const { send } = setup();
    expect((await send("PUT", "/v1/kv/k", { body: "first", headers: { "if-none-match": "*" } })).status).toBe(200);
    const again = await send("PUT", "/v1/kv/k", { body: "second", headers: { "if-none-match": "*" } });
    expect(again.status).toBe(412);
    expect(again.headers.get("etag")).toBe('"1"');
    expect(await (await send("GET", "/v1/kv/k")).text()).toBe("first");
  });

  it("DELETE with If-Match deletes only the named version", async () => {
    const { send } = setup();
    await send("PUT", "/v1/kv/k", { body: "v" });
    await send("PUT", "/v1/kv/k", { body: "w" });
    expect((await send("DELETE", "/v1/kv/k", { headers: { "if-match": '"1"' } })).status).toBe(412);
    expect((await send("DELETE", "/v1/kv/k", { headers: { "if-match": '"2"' } })).status).toBe(200);
    expect((await send("GET", "/v1/kv/k")).status).toBe(404);
  });
});

describe("read consistency", () => {
  it("defaults to linearizable and passes lease and stale through", async () => {
    const { send, cluster } = setup();
    await send("PUT", "/v1/kv/k", { body: "v" });
    await send("GET", "/v1/kv/k");
    expect(cluster.lastConsistency).toBe("linearizable");
    for (const consistency of ["lease", "stale", "linearizable"] as const) {
      expect((await send("GET", `/v1/kv/k?consistency=${consistency}`)).status).toBe(200);
      expect(cluster.lastConsistency).toBe(consistency);
    }
  });
});

describe("GET /v1/kv (scan)", () => {
  it("pages through keys in order, with text and base64 values", async () => {
    const { send, cluster } = setup();
    for (const key of ["b", "a", "c", "d"]) await send("PUT", `/v1/kv/${key}`, { body: `value-${key}` });
    await send("PUT", "/v1/kv/e", { body: new Uint8Array([0xff, 0xfe]) });
    const first = await jsonOf(await send("GET", "/v1/kv?limit=2&consistency=stale"));
    expect(cluster.lastConsistency).toBe("stale");
    expect(first.entries).toEqual([
      { key: "a", version: 2, value: "value-a", valueBase64: "dmFsdWUtYQ==" },
      { key: "b", version: 1, value: "value-b", valueBase64: "dmFsdWUtYg==" },
    ]);
    expect(typeof first.cursor).toBe("string");
    const second = await jsonOf(await send("GET", `/v1/kv?limit=2&cursor=${encodeURIComponent(first.cursor)}`));
    expect(second.entries.map((entry: { key: string }) => entry.key)).toEqual(["c", "d"]);
    const last = await jsonOf(await send("GET", `/v1/kv?limit=2&cursor=${encodeURIComponent(second.cursor)}`));
    expect(last.entries).toEqual([{ key: "e", version: 5, value: null, valueBase64: "//4=" }]);
    expect(last.cursor).toBeUndefined();
  });

  it("limits a scan by prefix and by start and end, and defaults the page size to 100", async () => {
    const { send } = setup();
    for (let index = 0; index < 120; index++) await send("PUT", `/v1/kv/item-${String(index).padStart(3, "0")}`, { body: "x" });
    await send("PUT", "/v1/kv/other", { body: "x" });
    const page = await jsonOf(await send("GET", "/v1/kv?prefix=item-"));
    expect(page.entries).toHaveLength(100);
    expect(page.cursor).toBeDefined();
    const range = await jsonOf(await send("GET", "/v1/kv?start=item-010&end=item-013"));
    expect(range.entries.map((entry: { key: string }) => entry.key)).toEqual(["item-010", "item-011", "item-012"]);
  });
});

describe("tenant keyspaces", () => {
  it("keeps a tenant's keys apart from the shared keyspace and other tenants", async () => {
    const { send } = setup();
    await send("PUT", "/v1/kv/k", { body: "shared" });
    const put = await send("PUT", "/v1/tenants/acme/kv/k", { body: "acme", token: acmeToken });
    expect(put.status).toBe(200);
    expect((await jsonOf(put)).group).toBe("tenant-acme");
    expect(await (await send("GET", "/v1/tenants/acme/kv/k", { token: acmeToken })).text()).toBe("acme");
    expect(await (await send("GET", "/v1/kv/k")).text()).toBe("shared");
    expect((await send("GET", "/v1/tenants/globex/kv/k")).status).toBe(404);
    const scan = await jsonOf(await send("GET", "/v1/tenants/acme/kv", { token: acmeToken }));
    expect(scan.entries).toEqual([{ key: "k", version: 2, value: "acme", valueBase64: "YWNtZQ==" }]);
    expect((await send("DELETE", "/v1/tenants/acme/kv/k", { token: acmeToken })).status).toBe(200);
  });

  it("takes the tenant's key from the rest of the path too", async () => {
    const { send } = setup();
    const put = await jsonOf(await send("PUT", "/v1/tenants/acme/kv/x/y%2Fz", { body: bytes("v"), token: acmeToken }));
    expect(put.key).toBe("x/y/z");
  });
});
