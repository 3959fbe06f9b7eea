/**
 * POST /v1/tenants/{tenant}/tokens (admin only): issues a tenant token. The token is in this
 * response only (the cluster keeps just its hash), so the response must not be cached anywhere.
 * The tenant's data routes live with the key and batch routes.
 */
import type { Hono } from "hono";
import type { Cluster } from "./cluster.ts";
import { rawPathOf, rawSegmentOf, tenantOfSegment } from "./parse.ts";
import { problemOfClusterError } from "./problem.ts";
import { addRoute, jsonResponse } from "./route.ts";
import type { Guards } from "./route.ts";

/** Registers the tenant token route. */
export function registerTenantRoutes(app: Hono, guards: Guards, cluster: Cluster): void {
  addRoute(app, "/v1/tenants/:tenant/tokens", {
    POST: guards.admin(async (request) => {
      const tenant = tenantOfSegment(rawSegmentOf(rawPathOf(request), 3));
      const result = await cluster.issueTenantToken(tenant);
      if (!result.ok) throw problemOfClusterError(result.error, `tenant ${tenant}`);
      return jsonResponse({ tenant, token: result.value.token }, 201, { "cache-control": "no-store" });
    }),
  });
}
