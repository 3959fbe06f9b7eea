/**
 * Proves, by fast-check over random methods, paths (well-formed or not), query strings, headers,
 * tokens and bodies, that the app never answers a 5xx to any input, that every error is a problem
 * document, and that a request it refuses leaves the cluster's data exactly as it was (compared
 * by a full snapshot before and after), transaction bodies included. The cluster is pre-filled; tokens mix admin, tenants and junk.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { acmeToken, adminToken, globexToken, setup } from "./harness.ts";

const maxValueBytes = 256;

const printable = fc.stringMatching(/^[ -~]{0,24}$/);
const segment = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.constantFrom("k", "a/b", "%", "%zz", "%2F", "%ED%A0%80", "%E9", "%C0%AF", "", "..", ".", "acme", "globex", "default", "Bad_Name", "k".repeat(1030)),
);
const tenant = fc.oneof(fc.constantFrom("acme", "globex", "initech"), segment);
const key = fc.array(segment, { minLength: 1, maxLength: 3 }).map((segments) => segments.join("/"));
/** Requests aimed at the API's routes: a path with random parts where the route has parameters, and a method it serves. */
const routeTarget = fc.oneof(
  fc.tuple(key.map((text) => `/v1/kv/${text}`), fc.constantFrom("GET", "PUT", "DELETE")),
  fc.tuple(fc.constant("/v1/kv"), fc.constant("GET")),
  fc.tuple(fc.tuple(tenant, key).map(([name, text]) => `/v1/tenants/${name}/kv/${text}`), fc.constantFrom("GET", "PUT", "DELETE")),
  fc.tuple(tenant.map((name) => `/v1/tenants/${name}/kv`), fc.constant("GET")),
  fc.tuple(fc.constant("/v1/batch"), fc.constant("POST")),
  fc.tuple(tenant.map((name) => `/v1/tenants/${name}/batch`), fc.constant("POST")),
  fc.tuple(fc.constant("/v1/txn"), fc.constant("POST")),
  fc.tuple(tenant.map((name) => `/v1/tenants/${name}/txn`), fc.constant("POST")),
  fc.tuple(tenant.map((name) => `/v1/tenants/${name}/tokens`), fc.constant("POST")),
  fc.tuple(fc.constant("/v1/groups"), fc.constantFrom("GET", "POST")),
  fc.tuple(segment.map((name) => `/v1/groups/${name}`), fc.constantFrom("GET", "DELETE")),
  fc.tuple(fc.constant("/v1/faults"), fc.constantFrom("GET", "POST", "DELETE")),
  fc.tuple(fc.constantFrom("/v1/health", "/v1/health/live", "/", "/raft/append", "/internal/step"), fc.constant("GET")),
);
const queryPart = fc.tuple(fc.constantFrom("consistency", "limit", "prefix", "start", "end", "cursor", "x"), fc.oneof(printable, segment, fc.constantFrom("stale", "lease", "0", "1000", "1001", "after:k")));
const query = fc.option(fc.array(queryPart, { maxLength: 4 }).map((parts) => "?" + parts.map(([name, value]) => `${name}=${value}`).join("&")), { nil: "" });
const anyMethod = fc.constantFrom("GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS");
/** Mostly a route with one of its methods; sometimes a wrong method, sometimes a random path. */
const target = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(routeTarget, query).map(([[path, method], search]) => ({ path: path + search, method })) },
  { weight: 1, arbitrary: fc.tuple(routeTarget, query, anyMethod).map(([[path], search, method]) => ({ path: path + search, method })) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 40 }), anyMethod).map(([text, method]) => ({ path: "/" + text, method })) },
);

const operation = fc.record(
  {
    op: fc.constantFrom("get", "put", "delete", "scan"),
    key: fc.oneof(segment, fc.constantFrom("k", "a", "b")),
    value: fc.oneof(fc.string({ maxLength: 8 }), fc.constant("x".repeat(maxValueBytes + 1))),
    valueBase64: fc.constantFrom("eA==", "not base64", ""),
    ifMatch: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.double(), fc.constant("1")),
    ifNoneMatch: fc.constantFrom("*", "1"),
  },
  { requiredKeys: [] },
);
const txnWrite = fc.record({ op: fc.constantFrom("put", "delete", "get"), key: fc.oneof(segment, fc.constantFrom("k", "a", "b")), value: fc.oneof(fc.string({ maxLength: 8 }), fc.constant("x".repeat(maxValueBytes + 1))), valueBase64: fc.constantFrom("eA==", "not base64") }, { requiredKeys: [] });
const txnCheck = fc.record({ key: fc.oneof(segment, fc.constantFrom("k", "a")), version: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.double(), fc.constant("1")), absent: fc.constantFrom(true, false, "yes") }, { requiredKeys: [] });
const jsonBody = fc.oneof(
  fc.record({ operations: fc.array(operation, { maxLength: 4 }) }, { requiredKeys: [] }),
  fc.record({ reads: fc.array(fc.oneof(segment, fc.constantFrom("k", "a")), { maxLength: 3 }), checks: fc.array(txnCheck, { maxLength: 3 }), writes: fc.array(txnWrite, { maxLength: 3 }) }, { requiredKeys: [] }),
  fc.record(
    { name: fc.oneof(printable, fc.constantFrom("users", "meta", "tenant-x", "default")), prefix: segment, start: segment, end: segment, replicas: fc.integer({ min: -1, max: 12 }), locations: fc.array(printable, { maxLength: 3 }) },
    { requiredKeys: [] },
  ),
  fc.record(
    { kind: fc.constantFrom("isolate", "drop", "delay", "crash", "heal", "boom"), group: fc.constantFrom("default", "Bad", ""), replica: fc.integer({ min: -1, max: 4 }), fraction: fc.double({ min: -1, max: 2 }), delayMs: fc.integer({ min: -5, max: 70_000 }) },
    { requiredKeys: [] },
  ),
  fc.json(),
);
const body = fc.option(
  fc.oneof(
    jsonBody.map((value) => (typeof value === "string" ? value : JSON.stringify(value))),
    fc.uint8Array({ maxLength: maxValueBytes + 8 }),
    printable,
    fc.constant("x".repeat(maxValueBytes + 1)),
  ),
  { nil: undefined },
);
const authorization = fc.oneof(
  { weight: 4, arbitrary: fc.constant(`Bearer ${adminToken}`) },
  { weight: 3, arbitrary: fc.constantFrom(`Bearer ${acmeToken}`, `Bearer ${globexToken}`) },
  { weight: 1, arbitrary: fc.constantFrom<string | null>("Bearer unknown", "Basic abc", "Bearer", null) },
);
const headers = fc.record(
  { "if-match": fc.oneof(printable, fc.constantFrom('"1"', '"2"', '"0"', "*")), "if-none-match": fc.oneof(printable, fc.constant("*")), "content-type": fc.constantFrom("application/json", "text/plain", "application/octet-stream"), "content-length": fc.stringMatching(/^[0-9]{1,8}$/) },
  { requiredKeys: [] },
);
const request = fc.record({ target, authorization, headers, body }).map(({ target: { path, method }, ...rest }) => ({ method, path, ...rest }));

type Generated = typeof request extends fc.Arbitrary<infer T> ? T : never;

function requestOf(generated: Generated): Request | undefined {
  const headers = new Headers(generated.headers);
  if (generated.authorization !== null) headers.set("authorization", generated.authorization);
  const canHaveBody = generated.method !== "GET" && generated.method !== "HEAD";
  try {
    return new Request(`http://127.0.0.1:8787${generated.path}`, { method: generated.method, headers, ...(canHaveBody && generated.body !== undefined ? { body: generated.body } : {}) });
  } catch {
    return undefined;
  }
}

async function prefilled() {
  const context = setup({ faults: true, maxValueBytes });
  for (const key of ["k", "a", "a/b", "b"]) await context.send("PUT", `/v1/kv/${encodeURIComponent(key)}`, { body: `shared-${key}` });
  for (const key of ["k", "a"]) await context.send("PUT", `/v1/tenants/acme/kv/${key}`, { body: new Uint8Array([1, 2, 255]), token: acmeToken });
  await context.send("POST", "/v1/groups", { body: JSON.stringify({ name: "users", prefix: "user/" }) });
  return context;
}

describe("random requests", () => {
  it("never get a 5xx, always get a problem document on error, and change nothing when refused", async () => {
    const context = await prefilled();
    await fc.assert(
      fc.asyncProperty(request, async (generated) => {
        const built = requestOf(generated);
        fc.pre(built !== undefined);
        const before = context.cluster.snapshot();
        const response = await context.app.fetch(built!);
        const status = response.status;
        expect(status, `${generated.method} ${generated.path}`).toBeLessThan(500);
        if (status >= 400) {
          if (generated.method !== "HEAD") expect(response.headers.get("content-type")).toBe("application/problem+json");
          expect(context.cluster.snapshot()).toBe(before);
        }
        await response.arrayBuffer();
      }),
      { numRuns: 1500 },
    );
  });

  it("never reach the cluster's data without a valid token", async () => {
    const context = await prefilled();
    const unauthenticated = request.map((generated) => ({ ...generated, authorization: "Bearer unknown" }));
    await fc.assert(
      fc.asyncProperty(unauthenticated, async (generated) => {
        const built = requestOf(generated);
        fc.pre(built !== undefined);
        context.cluster.calls.length = 0;
        const response = await context.app.fetch(built!);
        expect([200, 401, 404, 405]).toContain(response.status);
        expect(context.cluster.calls.filter((call) => call !== "tenantOfToken")).toEqual([]);
        await response.arrayBuffer();
      }),
      { numRuns: 500 },
    );
  });
});
