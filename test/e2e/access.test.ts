/**
 * Proves tenants, groups and auth end to end: a tenant's group is created on its first request,
 * a group created through the API receives the keys of its prefix, and the auth matrix holds
 * (no token 401, another tenant's token 403, a tenant token on an admin route 403).
 */
import { describe, expect, it } from "vitest";
import { call, callJson } from "./client.ts";

async function tokenFor(tenant: string): Promise<string> {
  const issued = await callJson<{ token: string }>(`/v1/tenants/${tenant}/tokens`, { method: "POST" });
  expect(issued.status).toBe(201);
  return issued.body.token;
}

describe("tenants, groups and auth through wrangler dev", () => {
  it("creates a tenant's own group on its first write and keeps tenants apart", async () => {
    const put = await callJson<{ group: string }>("/v1/tenants/acme/kv/profile", { method: "PUT", body: "acme data" });
    expect(put.status).toBe(200);
    expect(put.body.group).toBe("tenant-acme");
    expect((await call("/v1/tenants/globex/kv/profile")).status).toBe(404);
    expect(await (await call("/v1/tenants/acme/kv/profile")).text()).toBe("acme data");
    const groups = await callJson<{ groups: { name: string }[] }>("/v1/groups");
    expect(groups.body.groups.map((g) => g.name)).toContain("tenant-acme");
  });

  it("routes a created prefix group's keys to it", async () => {
    const created = await callJson<{ name: string }>("/v1/groups", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "orders", prefix: "orders/" }),
    });
    expect(created.status).toBe(201);
    const put = await callJson<{ group: string }>(`/v1/kv/${encodeURIComponent("orders/1")}`, { method: "PUT", body: "order one" });
    expect(put.body.group).toBe("orders");
    const other = await callJson<{ group: string }>("/v1/kv/not-an-order", { method: "PUT", body: "x" });
    expect(other.body.group).toBe("default");
    const inspected = await callJson<{ name: string; health: { healthy: boolean } }>("/v1/groups/orders");
    expect(inspected.status).toBe(200);
    expect(inspected.body.name).toBe("orders");
  });

  it("enforces the auth matrix", async () => {
    const acme = await tokenFor("acme");
    const globex = await tokenFor("globex");
    expect((await call("/v1/kv/x", { token: null })).status).toBe(401);
    expect((await call("/v1/kv/x", { token: "not-a-token" })).status).toBe(401);
    expect((await call("/v1/tenants/acme/kv/profile", { token: acme })).status).toBe(200);
    expect((await call("/v1/tenants/acme/kv/profile", { token: globex })).status).toBe(403);
    expect((await call("/v1/kv/x", { token: acme })).status).toBe(403);
    expect((await call("/v1/groups", { token: acme })).status).toBe(403);
    expect((await call("/v1/tenants/acme/tokens", { method: "POST", token: acme })).status).toBe(403);
    const own = await call("/v1/tenants/globex/kv/mine", { method: "PUT", body: "g", token: globex });
    expect(own.status).toBe(200);
  });
});
