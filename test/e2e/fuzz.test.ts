/**
 * Proves, by fast-check against the real Worker in wrangler dev, that requests the API must refuse
 * are refused cleanly and change nothing: malformed paths, keys and tenant names, bad tokens and
 * precondition headers, bad query strings, malformed, non-UTF-8 and oversized bodies, unknown
 * routes and wrong methods, aimed at every route (keys, scans, batches, tenants, tenant tokens,
 * groups, health, faults). Every answer must be a 4xx problem document (never a 5xx, never a
 * dropped connection), the server must still answer its liveness route afterwards, and a full scan
 * of the shared keyspace and of a tenant's keyspace and the group list must be the same before and
 * after. The generators (fuzz-requests.ts) produce only requests that must be refused, so no
 * request may legitimately change data and nothing needs excluding from the comparison.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problemCatalog } from "../../src/router/problem.ts";
import { baseUrl, call, callJson } from "./client.ts";
import { fuzzKeyPrefix, fuzzTenant, refusedRequests, type Credentials, type FuzzRequest } from "./fuzz-requests.ts";
import { e2eAdminToken } from "./wrangler.ts";

/** Requests the property sends (shrinking a failure sends more); FUZZ_RUNS=N runs a longer campaign locally. */
const requestsCount = Number(process.env.FUZZ_RUNS ?? "") || 400;

/** What the fuzzer saw, printed at the end: answers by status and code, and requests by family. */
const seenAnswers = new Map<string, number>();
const seenFamilies = new Map<string, number>();
const bump = (map: Map<string, number>, name: string): void => void map.set(name, (map.get(name) ?? 0) + 1);

/** Every entry of a keyspace, page by page. */
async function scanAll(path: string): Promise<unknown[]> {
  const entries: unknown[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 1_000; page++) {
    const query = `limit=1000${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
    const answer = await callJson<{ entries: unknown[]; cursor?: string }>(`${path}?${query}`);
    expect(answer.status, `scan ${path}`).toBe(200);
    entries.push(...answer.body.entries);
    cursor = answer.body.cursor;
    if (cursor === undefined) return entries;
  }
  throw new Error(`scan of ${path} did not end`);
}

/** The state the fuzzer must not change. */
async function snapshot(): Promise<{ shared: unknown[]; tenant: unknown[]; groups: unknown }> {
  const groups = await callJson<{ groups: { name: string }[] }>("/v1/groups");
  expect(groups.status).toBe(200);
  const sortedGroups = [...groups.body.groups].sort((left, right) => (left.name < right.name ? -1 : 1));
  return { shared: await scanAll("/v1/kv"), tenant: await scanAll(`/v1/tenants/${fuzzTenant}/kv`), groups: sortedGroups };
}

/** Sends `request` exactly as generated (no token added), and checks the answer. */
async function sendRefused(request: FuzzRequest): Promise<void> {
  bump(seenFamilies, request.family);
  let response: Response;
  try {
    response = await fetch(`${baseUrl()}${request.path}`, { method: request.method, headers: request.headers, ...(request.body === undefined ? {} : { body: request.body }) });
  } catch (error) {
    throw new Error(`${describeRequest(request)}: no answer (${String(error)})`);
  }
  const text = await response.text();
  let code = "";
  try {
    code = String((JSON.parse(text) as { code?: unknown }).code ?? "");
  } catch {
    code = "(not JSON)";
  }
  bump(seenAnswers, `${response.status} ${code}`);
  expect(response.status, `${describeRequest(request)} answered ${text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(response.status, `${describeRequest(request)} answered ${text.slice(0, 300)}`).toBeLessThan(500);
  expect(response.headers.get("content-type") ?? "", describeRequest(request)).toContain("application/problem+json");
  const catalogued = (problemCatalog as Record<string, { status: number } | undefined>)[code];
  expect(catalogued?.status, `${describeRequest(request)}: code ${code}`).toBe(response.status);
}

function describeRequest(request: FuzzRequest): string {
  const body = request.body === undefined ? "" : ` with a ${typeof request.body === "string" ? request.body.length : request.body.byteLength}-unit body`;
  return `[${request.family}] ${request.method} ${request.path.slice(0, 200)}${body} headers ${JSON.stringify(request.headers).slice(0, 300)}`;
}

describe("requests the API must refuse, fuzzed against wrangler dev", () => {
  const credentials: Credentials = { admin: e2eAdminToken, tenant: "" };
  let before: Awaited<ReturnType<typeof snapshot>>;

  beforeAll(async () => {
    // Data in both compared keyspaces (the tenant's group is created by its first write), and a tenant token.
    for (const [index, value] of ["text", "\u00ff\u0000binary", ""].entries()) {
      expect((await call(`/v1/kv/${encodeURIComponent(`${fuzzKeyPrefix}seed-${index}`)}`, { method: "PUT", body: value })).status).toBe(200);
      expect((await call(`/v1/tenants/${fuzzTenant}/kv/${encodeURIComponent(`${fuzzKeyPrefix}seed-${index}`)}`, { method: "PUT", body: value })).status).toBe(200);
    }
    const issued = await callJson<{ token: string }>(`/v1/tenants/${fuzzTenant}/tokens`, { method: "POST" });
    expect(issued.status).toBe(201);
    credentials.tenant = issued.body.token;
    before = await snapshot();
  });

  afterAll(() => {
    const sorted = (map: Map<string, number>) => [...map].sort((left, right) => right[1] - left[1]).map(([name, count]) => `${name} x${count}`).join(", ");
    console.log(`fuzz: ${[...seenFamilies.values()].reduce((sum, count) => sum + count, 0)} requests; answers: ${sorted(seenAnswers)}`);
    console.log(`fuzz: families: ${sorted(seenFamilies)}`);
  });

  it("refuses every one with a 4xx problem document, never a 5xx", async () => {
    await fc.assert(fc.asyncProperty(refusedRequests(credentials), sendRefused), { numRuns: requestsCount });
  });

  it("still answers its liveness route", async () => {
    const live = await call("/v1/health/live", { token: null });
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ ok: true });
  });

  it("leaves the shared keyspace, the tenant's keyspace and the group list exactly as they were", async () => {
    const after = await snapshot();
    expect(after.groups).toEqual(before.groups);
    expect(after.shared).toEqual(before.shared);
    expect(after.tenant).toEqual(before.tenant);
    expect(before.tenant.length).toBeGreaterThanOrEqual(3);
  });
});
