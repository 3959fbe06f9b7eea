/**
 * Proves GET /openapi.json describes the app that serves it: the routes are read from the Hono
 * app itself (app.routes, not a hand list) and each method on each path is in the document; the
 * document passes the OpenAPI 3 validator (@apidevtools/swagger-parser, against the official
 * schema); request bodies are the very zod schemas the handlers validate with; the access each
 * operation states is what the route enforces (no token: 401 exactly where a token is required);
 * and GET /docs is a self-contained page.
 */
import SwaggerParser from "@apidevtools/swagger-parser";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { batchBodySchema } from "../../src/router/batch-routes.ts";
import { groupBodySchema } from "../../src/router/group-routes.ts";
import { problemCatalog } from "../../src/router/problem.ts";
import { jsonOf, setup } from "./harness.ts";

type Operation = { security?: unknown[]; requestBody?: { content: Record<string, { schema: unknown }> }; responses: Record<string, { description: string; content?: Record<string, unknown> }>; parameters?: { name: string; in: string }[] };
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

/** The (method, OpenAPI path) pairs the Hono app routes, from its own route table. */
function servedRoutes(app: { routes: { method: string; path: string }[] }): { method: string; path: string }[] {
  const pairs = app.routes
    .filter((route) => route.method !== "ALL" && route.path !== "*" && route.path !== "/*")
    .map((route) => ({ method: route.method.toLowerCase(), path: route.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}") }));
  return [...new Map(pairs.map((pair) => [`${pair.method} ${pair.path}`, pair])).values()];
}

async function documentOf(send: ReturnType<typeof setup>["send"]): Promise<Document> {
  const response = await send("GET", "/openapi.json", { token: null });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("application/json");
  return (await jsonOf(response)) as Document;
}

describe("GET /openapi.json", () => {
  for (const faults of [false, true]) {
    it(`lists every route the app serves (fault routes ${faults ? "on" : "off"}), and only those`, async () => {
      const { app, send } = setup({ faults });
      const document = await documentOf(send);
      const served = servedRoutes(app);
      expect(served.length).toBeGreaterThan(20);
      const missing = served.filter(({ method, path }) => document.paths[path]?.[method] === undefined);
      expect(missing).toEqual([]);
      const documented = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
      expect(documented.sort()).toEqual(served.map(({ method, path }) => `${method} ${path}`).sort());
      expect(documented.some((entry) => entry.includes("/v1/faults"))).toBe(faults);
    });
  }

  it("is a valid OpenAPI 3 document", async () => {
    const document = await documentOf(setup({ faults: true }).send);
    expect(document.openapi).toMatch(/^3\.0\./);
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy();
  });

  it("a document with a broken operation fails the same validator (the check can fail)", async () => {
    const document = structuredClone(await documentOf(setup().send)) as Document;
    (document.paths["/v1/batch"]!.post as { responses: unknown }).responses = "none";
    await expect(SwaggerParser.validate(document as never)).rejects.toThrow();
  });

  it("describes request bodies with the schemas the handlers validate with", async () => {
    const document = await documentOf(setup().send);
    const bodyOf = (path: string) => document.paths[path]!.post!.requestBody!.content["application/json"]!.schema as Record<string, unknown>;
    for (const [path, schema] of [["/v1/batch", batchBodySchema], ["/v1/groups", groupBodySchema]] as const) {
      const expected = z.toJSONSchema(schema, { target: "openapi-3.0", io: "input" }) as { properties: Record<string, unknown>; required?: string[] };
      const documented = bodyOf(path) as { properties: Record<string, unknown>; required?: string[]; additionalProperties?: boolean };
      expect(Object.keys(documented.properties).sort()).toEqual(Object.keys(expected.properties).sort());
      expect((documented.required ?? []).sort()).toEqual((expected.required ?? []).sort());
      expect(documented.additionalProperties).toBe(false);
    }
    const batch = JSON.stringify(bodyOf("/v1/batch"));
    for (const op of ["get", "put", "delete"]) expect(batch).toContain(`"${op}"`);
  });

  it("states the access each route enforces, and its problem answers as problem+json", async () => {
    const { app, send } = setup({ faults: true });
    const document = await documentOf(send);
    for (const { method, path } of servedRoutes(app)) {
      const operation = document.paths[path]![method]!;
      const open = Array.isArray(operation.security) && operation.security.length === 0;
      const concrete = path.replace("{key}", "some/key").replace("{tenant}", "acme").replace("{name}", "default");
      const response = await send(method.toUpperCase(), concrete, { token: null });
      expect(response.status === 401, `${method} ${path} without a token`).toBe(!open);
      if (!open) {
        expect(operation.responses["401"]?.content?.["application/problem+json"], `${method} ${path} documents 401`).toBeDefined();
        expect(operation.responses["401"]!.description).toContain("unauthorized");
      }
      for (const [status, answer] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        const codes = Object.entries(problemCatalog).filter(([code, entry]) => entry.status === Number(status) && answer.description.includes(code));
        expect(codes.length, `${method} ${path} ${status} names its codes`).toBeGreaterThan(0);
      }
    }
  });
});

describe("GET /docs", () => {
  it("is a self-contained page that needs no token", async () => {
    const response = await setup().send("GET", "/docs", { token: null });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await response.text();
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).toContain('fetch("/openapi.json")');
    expect(html.length).toBeLessThan(20_000);
  });
});
