/**
 * Proves the auth matrix of docs/api.md: no or garbled token 401, unknown token 401, a tenant
 * token outside its own tenant's data routes 403, the admin token everywhere, and 503 everywhere
 * (but liveness and the root) when ADMIN_TOKEN is unset, by sending one request per route with
 * each kind of credential and checking that refused requests never reach the cluster's data.
 */
import { describe, expect, it } from "vitest";
import { constantTimeEqual } from "../../src/router/auth.ts";
import { acmeToken, adminToken, jsonOf, setup } from "./harness.ts";
import type { SendOptions } from "./harness.ts";

type Sample = { method: string; path: string; body?: string };

const batchBody = JSON.stringify({ operations: [{ op: "get", key: "k" }] });
const sharedData: Sample[] = [
  { method: "GET", path: "/v1/kv/k" },
  { method: "PUT", path: "/v1/kv/k", body: "v" },
  { method: "DELETE", path: "/v1/kv/k" },
  { method: "GET", path: "/v1/kv" },
  { method: "POST", path: "/v1/batch", body: batchBody },
];
const tenantData = (tenant: string): Sample[] => [
  { method: "GET", path: `/v1/tenants/${tenant}/kv/k` },
  { method: "PUT", path: `/v1/tenants/${tenant}/kv/k`, body: "v" },
  { method: "DELETE", path: `/v1/tenants/${tenant}/kv/k` },
  { method: "GET", path: `/v1/tenants/${tenant}/kv` },
  { method: "POST", path: `/v1/tenants/${tenant}/batch`, body: batchBody },
];
const adminRoutes: Sample[] = [
  { method: "GET", path: "/v1/groups" },
  { method: "POST", path: "/v1/groups", body: JSON.stringify({ name: "users", prefix: "u/" }) },
  { method: "GET", path: "/v1/groups/default" },
  { method: "DELETE", path: "/v1/groups/users" },
  { method: "POST", path: "/v1/tenants/acme/tokens" },
  { method: "GET", path: "/v1/health" },
  { method: "GET", path: "/v1/faults" },
  { method: "POST", path: "/v1/faults", body: JSON.stringify({ kind: "heal" }) },
  { method: "DELETE", path: "/v1/faults" },
];
const authenticated = [...sharedData, ...tenantData("acme"), ...tenantData("globex"), ...adminRoutes];

async function sendSample(send: (method: string, path: string, options?: SendOptions) => Promise<Response>, sample: Sample, options: SendOptions) {
  return send(sample.method, sample.path, sample.body === undefined ? options : { ...options, body: sample.body });
}

function dataCalls(calls: readonly string[]): string[] {
  return calls.filter((call) => call !== "tenantOfToken");
}

describe("authentication", () => {
  it("answers 401 with WWW-Authenticate for a missing, garbled or unknown token, on every route", async () => {
    const { send, cluster } = setup({ faults: true });
    const credentials: SendOptions[] = [
      { token: null },
      { token: null, headers: { authorization: `Basic ${btoa("admin:secret")}` } },
      { token: null, headers: { authorization: "Bearer" } },
      { token: null, headers: { authorization: "Bearer two tokens" } },
      { token: null, headers: { authorization: `Bearer${adminToken}` } },
      { token: null, headers: { authorization: `Bearer "${adminToken}"` } },
      { token: "unknown-token" },
      { token: `${adminToken}x` },
      { token: adminToken.slice(0, -1) },
    ];
    for (const sample of authenticated) {
      for (const credential of credentials) {
        const response = await sendSample(send, sample, credential);
        const where = `${sample.method} ${sample.path} ${JSON.stringify(credential)}`;
        expect(response.status, where).toBe(401);
        expect(response.headers.get("www-authenticate"), where).toMatch(/^Bearer realm="edgeraft"/);
        expect((await jsonOf(response)).code, where).toBe("unauthorized");
      }
    }
    expect(dataCalls(cluster.calls)).toEqual([]);
  });

  it("accepts the Bearer scheme in any case", async () => {
    const { send } = setup();
    expect((await send("GET", "/v1/groups", { token: null, headers: { authorization: `bearer ${adminToken}` } })).status).toBe(200);
    expect((await send("GET", "/v1/groups", { token: null, headers: { authorization: `BEARER ${adminToken}` } })).status).toBe(200);
  });
});

describe("authorization", () => {
  it("lets a tenant token use its own tenant's data routes", async () => {
    const { send } = setup();
    for (const sample of tenantData("acme")) {
      const response = await sendSample(send, sample, { token: acmeToken });
      expect([200, 404], `${sample.method} ${sample.path}`).toContain(response.status);
    }
  });

  it("answers 403 to a tenant token on another tenant, the shared keyspace and admin routes", async () => {
    const { send, cluster } = setup({ faults: true });
    const refused = [...tenantData("globex"), ...tenantData("Not_A_Tenant"), ...sharedData, ...adminRoutes];
    for (const sample of refused) {
      const response = await sendSample(send, sample, { token: acmeToken });
      expect(response.status, `${sample.method} ${sample.path}`).toBe(403);
      expect((await jsonOf(response)).code).toBe("forbidden");
    }
    expect(dataCalls(cluster.calls)).toEqual([]);
  });

  it("lets the admin token use every route", async () => {
    const { send } = setup({ faults: true });
    for (const sample of authenticated) {
      const response = await sendSample(send, sample, { token: adminToken });
      // Every sample is well-formed, so the admin meets only success or a missing key or group.
      expect([200, 201, 404], `${sample.method} ${sample.path}`).toContain(response.status);
    }
  });
});

describe("a deployment without ADMIN_TOKEN", () => {
  for (const missing of [undefined, ""]) {
    it(`refuses every authenticated route with 503 notConfigured (ADMIN_TOKEN ${JSON.stringify(missing)})`, async () => {
      const { send, cluster } = setup({ adminToken: missing, faults: true });
      for (const sample of authenticated) {
        for (const token of [null, adminToken, acmeToken, ""]) {
          const response = await sendSample(send, sample, { token });
          expect(response.status, `${sample.method} ${sample.path}`).toBe(503);
          const body = await jsonOf(response);
          expect(body.code).toBe("notConfigured");
          expect(body.detail).toMatch(/ADMIN_TOKEN is not set/);
        }
      }
      expect(cluster.calls).toEqual([]);
      expect((await send("GET", "/v1/health/live", { token: null })).status).toBe(200);
      expect((await send("GET", "/", { token: null })).status).toBe(200);
    });
  }
});

describe("constantTimeEqual", () => {
  it("compares UTF-8 bytes exactly", () => {
    expect(constantTimeEqual("token", "token")).toBe(true);
    expect(constantTimeEqual("", "")).toBe(true);
    expect(constantTimeEqual("token", "tokeN")).toBe(false);
    expect(constantTimeEqual("token", "token ")).toBe(false);
    expect(constantTimeEqual("token", "")).toBe(false);
    expect(constantTimeEqual("é", "e\u0301")).toBe(false);
    expect(constantTimeEqual("\u0100", "\u0000")).toBe(false);
    expect(constantTimeEqual("ab", "a")).toBe(false);
  });
});
