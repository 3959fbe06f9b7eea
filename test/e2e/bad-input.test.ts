/**
 * Proves that bad input gets a clear 4xx with a stable code and never a 5xx, against the real
 * Worker: malformed keys, bodies over the value limit, bad JSON, unknown routes, wrong methods,
 * and internal replica routes, which must not be reachable from outside.
 */
import { describe, expect, it } from "vitest";
import { call } from "./client.ts";

const cases: { name: string; path: string; init?: RequestInit; status: number; code: string }[] = [
  { name: "malformed percent-encoding in a key", path: "/v1/kv/%E0%A4%A", status: 400, code: "badKey" },
  { name: "a key over 1 KiB", path: `/v1/kv/${"k".repeat(1025)}`, status: 400, code: "badKey" },
  { name: "a value over 1 MiB", path: "/v1/kv/big", init: { method: "PUT", body: new Uint8Array(1024 * 1024 + 1) }, status: 413, code: "valueTooLarge" },
  { name: "bad JSON in a batch", path: "/v1/batch", init: { method: "POST", body: "{not json", headers: { "content-type": "application/json" } }, status: 400, code: "badJson" },
  { name: "a batch that fails the schema", path: "/v1/batch", init: { method: "POST", body: JSON.stringify({ operations: [{ op: "explode" }] }), headers: { "content-type": "application/json" } }, status: 400, code: "badRequest" },
  { name: "an unknown route", path: "/v1/nothing-here", status: 404, code: "routeNotFound" },
  { name: "a wrong method", path: "/v1/kv/a", init: { method: "PATCH" }, status: 405, code: "methodNotAllowed" },
  { name: "an internal replica route", path: "/internal/raft", init: { method: "POST", body: "{}" }, status: 404, code: "routeNotFound" },
  { name: "a bad consistency", path: "/v1/kv/a?consistency=eventual", status: 400, code: "badConsistency" },
  { name: "a bad scan limit", path: "/v1/kv?limit=0", status: 400, code: "badLimit" },
  { name: "a malformed If-Match", path: "/v1/kv/a", init: { method: "PUT", body: "x", headers: { "if-match": "nope" } }, status: 400, code: "badPrecondition" },
  { name: "a bad tenant name", path: "/v1/tenants/Bad_Tenant/kv/a", status: 400, code: "badTenant" },
];

describe("bad input through wrangler dev", () => {
  for (const testCase of cases) {
    it(`${testCase.name} is ${testCase.status} ${testCase.code}`, async () => {
      const response = await call(testCase.path, testCase.init);
      expect(response.status).toBe(testCase.status);
      expect(response.headers.get("content-type")).toContain("application/problem+json");
      expect(((await response.json()) as { code: string }).code).toBe(testCase.code);
    });
  }

  it("leaves stored data unchanged", async () => {
    await call("/v1/kv/survivor", { method: "PUT", body: "intact" });
    for (const testCase of cases) await call(testCase.path, testCase.init);
    expect(await (await call("/v1/kv/survivor")).text()).toBe("intact");
  });
});
