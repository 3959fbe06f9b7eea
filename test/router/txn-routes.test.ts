/**
 * Proves the HTTP contract of POST /v1/txn over the in-memory cluster: the 200 body (committed,
 * reads in request order with text and base64, versions by key), 409 txnConflict with the keys, the
 * tenant route, and that every malformed or oversized body is a 400 or 413 with a stable code
 * before anything runs (the cluster is never called).
 */
import { describe, expect, it } from "vitest";
import { txnKeysMax, txnValueBytesMax } from "../../src/shared/limits.ts";
import { acmeToken, jsonOf, setup } from "./harness.ts";

const json = (body: unknown) => ({ body: JSON.stringify(body), headers: { "content-type": "application/json" } });

describe("POST /v1/txn", () => {
  it("answers committed, the reads in request order and the version of each write", async () => {
    const { send } = setup();
    await send("PUT", "/v1/kv/a", { body: "ten" });
    const response = await send("POST", "/v1/txn", json({ reads: ["missing", "a"], checks: [{ key: "a", version: 1 }, { key: "b", absent: true }], writes: [{ op: "put", key: "a", value: "nine" }, { op: "put", key: "b", valueBase64: "AP8=" }, { op: "delete", key: "c" }] }));
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toEqual({
      committed: true,
      reads: [
        { key: "missing", found: false, version: 0 },
        { key: "a", found: true, value: "ten", valueBase64: "dGVu", version: 1 },
      ],
      versions: { a: 2, b: 3, c: 4 },
    });
  });

  it("answers 409 txnConflict naming the keys whose checks failed, and writes nothing", async () => {
    const { send, cluster } = setup();
    await send("PUT", "/v1/kv/a", { body: "ten" });
    const before = cluster.snapshot();
    const response = await send("POST", "/v1/txn", json({ checks: [{ key: "a", absent: true }], writes: [{ op: "put", key: "b", value: "x" }] }));
    expect(response.status).toBe(409);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await jsonOf(response)).toMatchObject({ code: "txnConflict", keys: ["a"], status: 409 });
    expect(cluster.snapshot()).toBe(before);
  });

  it("runs in a tenant's keyspace on the tenant route", async () => {
    const { send, cluster } = setup();
    const response = await send("POST", "/v1/tenants/acme/txn", { ...json({ writes: [{ op: "put", key: "k", value: "v" }] }), token: acmeToken });
    expect(response.status).toBe(200);
    expect(cluster.calls).toContain("txn tenant:acme");
  });

  const badBodies: [string, unknown, number, string][] = [
    ["an empty transaction", {}, 400, "badRequest"],
    ["an unknown member", { reads: ["a"], extra: 1 }, 400, "badRequest"],
    ["a check with both version and absent", { checks: [{ key: "a", version: 1, absent: true }] }, 400, "badRequest"],
    ["a negative version", { checks: [{ key: "a", version: -1 }] }, 400, "badRequest"],
    ["a put without a value", { writes: [{ op: "put", key: "a" }] }, 400, "badRequest"],
    ["a put with both encodings", { writes: [{ op: "put", key: "a", value: "x", valueBase64: "eA==" }] }, 400, "badRequest"],
    ["bad base64", { writes: [{ op: "put", key: "a", valueBase64: "!!" }] }, 400, "badRequest"],
    ["an empty key", { reads: [""] }, 400, "badRequest"],
    ["a key written twice", { writes: [{ op: "put", key: "a", value: "1" }, { op: "delete", key: "a" }] }, 400, "badRequest"],
    ["an unknown op", { writes: [{ op: "increment", key: "a" }] }, 400, "badRequest"],
    ["too many keys", { reads: Array.from({ length: txnKeysMax + 1 }, (_, index) => `k${index}`) }, 413, "txnTooLarge"],
    ["too many value bytes", { writes: [0, 1].map((index) => ({ op: "put", key: `big${index}`, value: "x".repeat(txnValueBytesMax / 2 + 1) })) }, 413, "txnTooLarge"],
  ];
  for (const [what, body, status, code] of badBodies) {
    it(`refuses ${what} with ${status} ${code} before running anything`, async () => {
      const { send, cluster } = setup();
      const response = await send("POST", "/v1/txn", json(body));
      expect(response.status).toBe(status);
      expect(await jsonOf(response)).toMatchObject({ code });
      expect(cluster.calls.filter((call) => call.startsWith("txn"))).toEqual([]);
    });
  }

  it("refuses a body that is not JSON with 400 badJson", async () => {
    const { send } = setup();
    const response = await send("POST", "/v1/txn", { body: "{not json", headers: { "content-type": "application/json" } });
    expect(response.status).toBe(400);
    expect(await jsonOf(response)).toMatchObject({ code: "badJson" });
  });
});
