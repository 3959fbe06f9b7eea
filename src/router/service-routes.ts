/**
 * The routes about the service itself: GET / (a pointer to the docs, no auth), GET /v1/health/live
 * (liveness for load balancers: no auth, never touches the cluster) and GET /v1/health (the
 * cluster's health aggregate, admin only: 200 when healthy, 503 with the reasons when not;
 * `?lagEntries=N` and `?lagSeconds=N` override the configured lag limits for one request).
 */
import type { Hono } from "hono";
import type { Cluster } from "./cluster.ts";
import { healthLagEntriesMaxDefault, healthLagSecondsMaxDefault, summarizeHealth } from "./health-summary.ts";
import { problemOfClusterError } from "./problem.ts";
import { addRoute, jsonResponse } from "./route.ts";
import type { Guards } from "./route.ts";
import { healthAnswer, objectAnswer } from "./openapi/schemas.ts";
import { healthQuery } from "./parameters.ts";
import { queryParametersOf } from "./route-input.ts";
import { z } from "zod";
import type { GroupHealthSource } from "./metrics/report-health.ts";

/** Registers the root, liveness and health routes. */
export function registerServiceRoutes(app: Hono, guards: Guards, cluster: Cluster, options: { healthLagEntriesMax?: number; healthLagSecondsMax?: number; groupHealth?: GroupHealthSource } = {}): void {
  const lagEntriesMaxDefault = options.healthLagEntriesMax ?? healthLagEntriesMaxDefault;
  const lagSecondsMaxDefault = options.healthLagSecondsMax ?? healthLagSecondsMaxDefault;
  addRoute(app, "/", {
    GET: guards.open(async () =>
      jsonResponse({ service: "edgeraft", api: "v1", docs: "docs/api.md", live: "/v1/health/live", health: "/v1/health" }),
    ),
  }, { GET: { summary: "Pointers to the docs and health routes", tag: "service", answers: { 200: { description: "Where to look.", schema: objectAnswer } }, problems: [] } });
  addRoute(app, "/v1/health/live", { GET: guards.open(async () => jsonResponse({ ok: true })) }, {
    GET: { summary: "Liveness (never touches the cluster)", tag: "service", answers: { 200: { description: "The router is up.", schema: z.object({ ok: z.literal(true) }) } }, problems: [] },
  });
  addRoute(app, "/v1/health", {
    GET: guards.admin(async (request) => {
      const { lagEntries: asked, lagSeconds: askedSeconds } = queryParametersOf(request, healthQuery);
      const result = await (options.groupHealth ?? (() => cluster.health()))();
      if (!result.ok) throw problemOfClusterError(result.error, "the health check");
      const lagSecondsMax = askedSeconds === undefined ? lagSecondsMaxDefault : askedSeconds;
      const summary = summarizeHealth(result.value.groups, asked === undefined ? lagEntriesMaxDefault : asked, lagSecondsMax);
      return jsonResponse(summary, summary.healthy ? 200 : 503, { "cache-control": "no-store" });
    }),
  }, {
    GET: {
      summary: "Health of every group: counts, lag and reasons", tag: "service", query: healthQuery,
      answers: { 200: { description: "Healthy.", schema: healthAnswer }, 503: { description: "Not healthy: the reasons say why.", schema: healthAnswer } },
      problems: ["badQuery", "unavailable"],
    },
  });
}
