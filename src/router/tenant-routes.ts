/**
 * PUT /v1/tenants/{tenant} (admin): creates a tenant's keyspace hashed over several groups;
 * POST /v1/tenants/{tenant}/groups (admin): adds a group to it, which takes its share of slots.
 * POST /v1/tenants/{tenant}/tokens (admin only): issues a tenant token. The token is in this
 * response only (the cluster keeps just its hash), so the response must not be cached anywhere.
 * The tenant's data routes live with the key and batch routes.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { hashedTenantGroupsMax } from "../shared/limits.ts";
import { jsonBodyBytesMax, parseWithSchema, readJson } from "./body.ts";
import type { Cluster } from "./cluster.ts";
import { problemOfClusterError } from "./problem.ts";
import { addRoute, jsonResponse } from "./route.ts";
import type { Guards } from "./route.ts";
import { groupAnswer, objectAnswer } from "./openapi/schemas.ts";
import { tenantParams } from "./parameters.ts";
import { pathParametersOf } from "./route-input.ts";

/** The JSON body of PUT /v1/tenants/{tenant}: a keyspace hashed over `groups` groups. */
export const tenantKeyspaceSchema = z.strictObject({ mode: z.literal("hash"), groups: z.number().int().min(1).max(hashedTenantGroupsMax) });

/** Registers the tenant routes: tokens, a hashed keyspace, and growing it. */
export function registerTenantRoutes(app: Hono, guards: Guards, cluster: Cluster): void {
  addRoute(app, "/v1/tenants/:tenant", {
    PUT: guards.admin(async (request) => {
      const { tenant } = pathParametersOf(request, tenantParams);
      const body = parseWithSchema(tenantKeyspaceSchema, await readJson(request, { bytesMax: jsonBodyBytesMax, code: "bodyTooLarge" }));
      const result = await cluster.createTenantKeyspace(tenant, body);
      if (!result.ok) throw problemOfClusterError(result.error, `tenant ${tenant}`);
      return jsonResponse({ tenant, ...result.value }, 201);
    }),
  }, {
    PUT: {
      summary: "Create a tenant keyspace hashed over several groups", tag: "tenants", params: tenantParams, body: { schema: tenantKeyspaceSchema },
      answers: { 201: { description: "The tenant's keyspace and its groups.", schema: objectAnswer } },
      problems: ["badTenant", "badJson", "badRequest", "bodyTooLarge", "groupExists", "unavailable"],
    },
  });
  addRoute(app, "/v1/tenants/:tenant/groups", {
    POST: guards.admin(async (request) => {
      const { tenant } = pathParametersOf(request, tenantParams);
      const result = await cluster.addTenantGroup(tenant);
      if (!result.ok) throw problemOfClusterError(result.error, `tenant ${tenant}`);
      return jsonResponse(result.value, 201, { location: `/v1/groups/${encodeURIComponent(result.value.name)}` });
    }),
  }, {
    POST: {
      summary: "Add a group to a hashed tenant keyspace (it takes its share of slots)", tag: "tenants", params: tenantParams,
      answers: { 201: { description: "The new group.", schema: groupAnswer, headers: { location: "The group's URL." } } },
      problems: ["badTenant", "badRequest", "groupNotFound", "unavailable"],
    },
  });
  addRoute(app, "/v1/tenants/:tenant/tokens", {
    POST: guards.admin(async (request) => {
      const { tenant } = pathParametersOf(request, tenantParams);
      const result = await cluster.issueTenantToken(tenant);
      if (!result.ok) throw problemOfClusterError(result.error, `tenant ${tenant}`);
      return jsonResponse({ tenant, token: result.value.token }, 201, { "cache-control": "no-store" });
    }),
  }, {
    POST: {
      summary: "Issue a tenant token (shown once)", tag: "tenants", params: tenantParams,
      answers: { 201: { description: "The token; only its hash is kept.", schema: z.object({ tenant: z.string(), token: z.string() }) } },
      problems: ["badTenant", "unavailable"],
    },
  });
}
