/**
 * Proves path and query parameters are validated by the zod schemas GET /openapi.json is generated
 * from: every documented parameter schema names the stable problem its refusal answers; the
 * document states those schemas' patterns and enums; refused values answer that problem (replica
 * ids, group and tenant names, health's lag limits), only after authentication; accepted values
 * reach the handler parsed (numbers, not text); and a handler cannot read parameters with a schema
 * other than the one its route documents. Each case runs on the app over the in-memory cluster.
 */
import { OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { tenantNamePattern } from "../../src/router/parse.ts";
import { keyParams, readQuery } from "../../src/router/parameters.ts";
import { pathParametersOf, problemOfField, queryParametersOf, rawParametersOf } from "../../src/router/route-input.ts";
import { jsonOf, setup } from "./harness.ts";

type Parameter = { name: string; in: string; schema: { pattern?: string; enum?: string[] } };

/** The route configurations the app registered for its document. */
function routeConfigsOf(app: unknown): RouteConfig[] {
  expect(app).toBeInstanceOf(OpenAPIHono);
  return (app as OpenAPIHono).openAPIRegistry.definitions.flatMap((definition) => (definition.type === "route" ? [definition.route] : []));
}

describe("parameter schemas", () => {
  it("every documented path and query parameter names the problem its refusal answers", () => {
    const routes = routeConfigsOf(setup({ faults: true }).app);
    const fields: string[] = [];
    for (const route of routes) {
      for (const part of ["params", "query"] as const) {
        const schema = route.request?.[part];
        if (!(schema instanceof z.ZodObject)) continue;
        for (const name of Object.keys(schema.shape)) {
          fields.push(`${route.method} ${route.path} ${part}.${name}`);
          expect(problemOfField(schema, name, "internal"), `${route.method} ${route.path} ${name}`).not.toBe("internal");
        }
      }
    }
    expect(fields).toContain("get /v1/kv/{key} params.key");
    expect(fields).toContain("get /v1/kv query.limit");
    expect(fields).toContain("delete /v1/groups/{name}/replicas/{id} params.id");
  });

  it("the document states the schemas' patterns and enums", async () => {
    const { send } = setup();
    const document = (await jsonOf(await send("GET", "/openapi.json", { token: null }))) as { paths: Record<string, Record<string, { parameters?: Parameter[] }>> };
    const parameter = (path: string, method: string, name: string) => document.paths[path]?.[method]?.parameters?.find((candidate) => candidate.name === name);
    expect(parameter("/v1/tenants/{tenant}/tokens", "post", "tenant")?.schema.pattern).toBe(tenantNamePattern.source);
    expect(parameter("/v1/groups/{name}/replicas/{id}", "delete", "id")?.schema.pattern).toBe("^[1-9][0-9]{0,8}$");
    expect(parameter("/v1/kv", "get", "limit")?.schema.pattern).toBe("^[0-9]{1,7}$");
    expect(parameter("/v1/kv/{key}", "get", "consistency")?.schema.enum).toEqual(["linearizable", "lease", "stale"]);
    expect(parameter("/v1/health", "get", "lagSeconds")?.in).toBe("query");
  });
});

describe("refused parameters", () => {
  it("answer the problem their schema names, and never reach the cluster", async () => {
    const { send, cluster } = setup();
    const cases: [string, string, number, string][] = [
      ["DELETE", "/v1/groups/default/replicas/0", 404, "replicaNotFound"],
      ["DELETE", "/v1/groups/default/replicas/01", 404, "replicaNotFound"],
      ["POST", "/v1/groups/default/replicas/abc/replace", 404, "replicaNotFound"],
      ["DELETE", "/v1/groups/Upper/replicas/1", 404, "groupNotFound"],
      ["POST", "/v1/groups/%zz/split", 404, "groupNotFound"],
      ["POST", "/v1/groups/-x/transfer-leader", 404, "groupNotFound"],
      ["POST", "/v1/tenants/%zz/tokens", 400, "badTenant"],
      ["PUT", "/v1/tenants/Acme", 400, "badTenant"],
      ["GET", "/v1/health?lagEntries=abc", 400, "badQuery"],
      ["GET", "/v1/health?lagSeconds=1234567", 400, "badQuery"],
      ["GET", "/v1/health?lagSeconds=1&lagSeconds=2", 400, "badQuery"],
      ["GET", "/v1/kv?prefix=a&cursor=", 200, ""],
    ];
    for (const [method, path, status, code] of cases) {
      const response = await send(method, path);
      expect(response.status, `${method} ${path}`).toBe(status);
      if (code !== "") expect((await jsonOf(response)).code, `${method} ${path}`).toBe(code);
    }
    expect(cluster.calls.filter((call) => !call.startsWith("scan"))).toEqual([]);
  });

  it("are checked only after the caller is authenticated", async () => {
    const { send } = setup();
    for (const path of ["/v1/kv/%zz", "/v1/kv?limit=0", "/v1/groups/%zz", "/v1/health?lagSeconds=x"]) {
      const response = await send("GET", path, { token: null });
      expect(response.status, path).toBe(401);
    }
  });

  it("reach the handler parsed: health's lag limits as numbers", async () => {
    const { send } = setup();
    const body = await jsonOf(await send("GET", "/v1/health?lagEntries=3&lagSeconds=7"));
    expect(body.lagEntriesMax).toBe(3);
    expect(body.lagSecondsMax).toBe(7);
  });
});

describe("reading parameters", () => {
  it("takes the raw path apart by the route's Hono pattern, keeping the encoding for the schema to decode", () => {
    expect(rawParametersOf("/v1/tenants/:tenant/kv/:key{.*}", "/v1/tenants/acme/kv/a%2Fb/c")).toEqual({ tenant: "acme", key: "a%2Fb/c" });
    expect(rawParametersOf("/v1/groups/:name/replicas/:id", "/v1/groups/g.1/replicas/7")).toEqual({ name: "g.1", id: "7" });
  });

  it("refuses a schema other than the route's documented one (a programmer error)", () => {
    const request = new Request("http://127.0.0.1/v1/kv/k");
    expect(() => pathParametersOf(request, keyParams)).toThrow(/schema their route documents/);
    expect(() => queryParametersOf(request, readQuery)).toThrow(/schema their route documents/);
  });
});
