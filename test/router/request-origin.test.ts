/**
 * Proves that the router notes where a data request came from: the `request.cf` location data the
 * Workers runtime attaches becomes the keyspace's `origin` (the nearest locationHint) handed to the
 * cluster, for shared and tenant keys alike; a request without `cf` (other runtimes, tests) or
 * with unusable `cf` has no origin.
 */
import { describe, expect, it } from "vitest";
import { adminToken, setup } from "./harness.ts";

function withCf(path: string, init: RequestInit, cf: unknown): Request {
  const request = new Request(`http://127.0.0.1:8787${path}`, { ...init, headers: { authorization: `Bearer ${adminToken}` } });
  Object.defineProperty(request, "cf", { value: cf });
  return request;
}

describe("the origin of a request", () => {
  it("is the locationHint nearest to request.cf", async () => {
    const { app, cluster } = setup();
    expect((await app.fetch(withCf("/v1/kv/k", { method: "PUT", body: "v" }, { colo: "NRT", continent: "AS", country: "JP" }))).status).toBe(200);
    expect(cluster.lastOrigin).toBe("apac");
    expect((await app.fetch(withCf("/v1/tenants/acme/kv/k", { method: "GET" }, { colo: "LHR", continent: "EU", country: "GB", longitude: "-0.1" }))).status).toBe(404);
    expect(cluster.lastOrigin).toBe("weur");
  });

  it("is absent without usable cf data", async () => {
    const { app, cluster, send } = setup();
    expect((await send("PUT", "/v1/kv/k", { body: "v" })).status).toBe(200);
    expect(cluster.lastOrigin).toBeUndefined();
    for (const cf of [null, "EU", { continent: "AN" }, {}]) {
      expect((await app.fetch(withCf("/v1/kv/k", { method: "GET" }, cf))).status).toBe(200);
      expect(cluster.lastOrigin, JSON.stringify(cf)).toBeUndefined();
    }
  });
});
