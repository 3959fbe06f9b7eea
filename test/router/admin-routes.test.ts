/**
 * Proves the admin and service routes (groups, tenant tokens, health, liveness, the root pointer
 * and the fault routes) answer as docs/api.md says, by sending requests with the admin token to an
 * app over the in-memory cluster and checking status, headers, bodies and what reached the cluster.
 */
import { describe, expect, it } from "vitest";
import { jsonOf, setup } from "./harness.ts";

function json(body: unknown): { body: string; headers: Record<string, string> } {
  return { body: JSON.stringify(body), headers: { "content-type": "application/json" } };
}

describe("groups", () => {
  it("creates a prefix group, lists it, inspects it and removes it", async () => {
    const { send } = setup();
    const created = await send("POST", "/v1/groups", json({ name: "users", prefix: "user/", replicas: 5, locations: ["wnam", "weur"] }));
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe("/v1/groups/users");
    expect(await jsonOf(created)).toMatchObject({ name: "users", owns: { prefix: "user/" }, replicas: expect.any(Array) });
    const list = await jsonOf(await send("GET", "/v1/groups"));
    expect(list.groups.map((group: { name: string }) => group.name)).toEqual(["default", "users"]);
    const inspected = await send("GET", "/v1/groups/users");
    expect(inspected.status).toBe(200);
    expect(await jsonOf(inspected)).toMatchObject({ name: "users", health: { name: "users", healthy: true } });
    expect((await jsonOf(await send("PUT", "/v1/kv/user%2F1", { body: "x" }))).group).toBe("users");
    const removed = await send("DELETE", "/v1/groups/users");
    expect(removed.status).toBe(200);
    expect(await jsonOf(removed)).toEqual({ name: "users", deleted: true });
    expect((await send("GET", "/v1/groups/users")).status).toBe(404);
    expect((await send("DELETE", "/v1/groups/users")).status).toBe(404);
  });

  it("creates a range group with a default of three replicas", async () => {
    const { send, cluster } = setup();
    const created = await send("POST", "/v1/groups", json({ name: "middle", start: "m", end: "n" }));
    expect(created.status).toBe(201);
    expect((await jsonOf(created)).replicas).toHaveLength(3);
    expect(cluster.calls).toContain("createGroup middle");
  });

  it("answers 409 groupExists for a second group of the same name", async () => {
    const { send } = setup();
    await send("POST", "/v1/groups", json({ name: "users", prefix: "u/" }));
    const again = await send("POST", "/v1/groups", json({ name: "users", prefix: "v/" }));
    expect(again.status).toBe(409);
    expect((await jsonOf(again)).code).toBe("groupExists");
  });

  it("protects the default group from removal", async () => {
    const { send, cluster } = setup();
    const response = await send("DELETE", "/v1/groups/default");
    expect(response.status).toBe(409);
    expect((await jsonOf(response)).code).toBe("groupProtected");
    expect(cluster.calls).not.toContain("deleteGroup default");
  });

  it("answers 404 groupNotFound for a name no group can have", async () => {
    const { send, cluster } = setup();
    for (const name of ["UPPER", "%zz", "a%2Fb", "-dash"]) {
      const response = await send("GET", `/v1/groups/${name}`);
      expect(response.status, name).toBe(404);
      expect((await jsonOf(response)).code).toBe("groupNotFound");
    }
    expect(cluster.calls.filter((call) => call.startsWith("getGroup"))).toEqual([]);
  });

  it("refuses bad group specifications with 400 and creates nothing", async () => {
    const { send, cluster } = setup();
    const bodies: unknown[] = [
      { prefix: "a" },
      { name: "Users", prefix: "a" },
      { name: "1users", prefix: "a" },
      { name: "x".repeat(64), prefix: "a" },
      { name: "tenant-acme", prefix: "a" },
      { name: "meta", prefix: "a" },
      { name: "metadata", prefix: "a" },
      { name: "users" },
      { name: "users", prefix: "a", start: "b" },
      { name: "users", prefix: "a", end: "b" },
      { name: "users", end: "b" },
      { name: "users", start: "b", end: "a" },
      { name: "users", start: "b", end: "b" },
      { name: "users", prefix: "" },
      { name: "users", prefix: "a", replicas: 0 },
      { name: "users", prefix: "a", replicas: 10 },
      { name: "users", prefix: "a", replicas: 2.5 },
      { name: "users", prefix: "a", locations: [] },
      { name: "users", prefix: "a", locations: ["wnam", "wnam"] },
      { name: "users", prefix: "a", locations: ["WNAM"] },
      { name: "users", prefix: "a", color: "blue" },
      [],
      "users",
      null,
    ];
    for (const body of bodies) {
      const response = await send("POST", "/v1/groups", json(body));
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await jsonOf(response)).code, JSON.stringify(body)).toBe("badRequest");
    }
    expect(cluster.calls.filter((call) => call.startsWith("createGroup"))).toEqual([]);
  });
});

describe("tenant tokens", () => {
  it("issues a token once, uncached, that then reaches the tenant's keyspace", async () => {
    const { send } = setup();
    const response = await send("POST", "/v1/tenants/initech/tokens");
    expect(response.status).toBe(201);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const { token, tenant } = await jsonOf(response);
    expect(tenant).toBe("initech");
    expect(typeof token).toBe("string");
    expect((await send("PUT", "/v1/tenants/initech/kv/k", { body: "v", token })).status).toBe(200);
    expect((await send("GET", "/v1/tenants/acme/kv/k", { token })).status).toBe(403);
  });

  it("refuses a malformed tenant name with 400 badTenant", async () => {
    const { send } = setup();
    for (const tenant of ["Acme", "-acme", "a".repeat(64), "%zz", "ac%2Fme", "ac_me"]) {
      const response = await send("POST", `/v1/tenants/${tenant}/tokens`);
      expect(response.status, tenant).toBe(400);
      expect((await jsonOf(response)).code).toBe("badTenant");
    }
  });
});

describe("health and service routes", () => {
  it("reports health with 200 when healthy and 503 when not", async () => {
    const { send, cluster } = setup();
    const healthy = await send("GET", "/v1/health");
    expect(healthy.status).toBe(200);
    expect(await jsonOf(healthy)).toMatchObject({ healthy: true, groups: [{ name: "default" }] });
    cluster.healthy = false;
    const unhealthy = await send("GET", "/v1/health");
    expect(unhealthy.status).toBe(503);
    expect(unhealthy.headers.get("content-type")).toBe("application/json");
    expect((await jsonOf(unhealthy)).healthy).toBe(false);
  });

  it("answers liveness without a token and without touching the cluster", async () => {
    const { send, cluster } = setup();
    const response = await send("GET", "/v1/health/live", { token: null });
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toEqual({ ok: true });
    expect(cluster.calls).toEqual([]);
  });

  it("points to the docs from the root", async () => {
    const { send } = setup();
    const response = await send("GET", "/", { token: null });
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toMatchObject({ service: "edgeraft", api: "v1", docs: "docs/api.md" });
  });
});

describe("fault routes", () => {
  it("do not exist without a FaultControl", async () => {
    const { send } = setup();
    for (const method of ["GET", "POST", "DELETE"]) {
      const response = await send(method, "/v1/faults", method === "POST" ? json({ kind: "heal" }) : {});
      expect(response.status).toBe(404);
      expect((await jsonOf(response)).code).toBe("routeNotFound");
    }
  });

  it("inject, list and heal faults when present", async () => {
    const { send, faults } = setup({ faults: true });
    const fault = { kind: "delay", group: "default", fraction: 0.5, delayMs: 200 };
    const injected = await send("POST", "/v1/faults", json(fault));
    expect(injected.status).toBe(200);
    expect(await jsonOf(injected)).toEqual({ applied: true, fault });
    await send("POST", "/v1/faults", json({ kind: "isolate", group: "tenant-acme", replica: 2 }));
    expect((await jsonOf(await send("GET", "/v1/faults"))).faults).toHaveLength(2);
    await send("POST", "/v1/faults", json({ kind: "heal", group: "default" }));
    expect(faults?.faults).toEqual([{ kind: "isolate", group: "tenant-acme", replica: 2 }]);
    expect((await send("DELETE", "/v1/faults")).status).toBe(200);
    expect((await jsonOf(await send("GET", "/v1/faults"))).faults).toEqual([]);
  });

  it("refuse malformed fault specifications with 400", async () => {
    const { send, faults } = setup({ faults: true });
    const bodies: unknown[] = [
      { kind: "drop", group: "default", fraction: 1.5 },
      { kind: "drop", group: "default", fraction: -0.1 },
      { kind: "delay", group: "default", fraction: 0.5, delayMs: 60_001 },
      { kind: "delay", group: "default", fraction: 0.5 },
      { kind: "isolate", group: "default", replica: -1 },
      { kind: "crash", group: "default" },
      { kind: "explode", group: "default" },
      { kind: "heal", group: "Bad Name" },
      {},
    ];
    for (const body of bodies) {
      const response = await send("POST", "/v1/faults", json(body));
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await jsonOf(response)).code).toBe("badRequest");
    }
    expect(faults?.faults).toEqual([]);
  });
});
