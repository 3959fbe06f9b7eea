/**
 * The routes about the service itself: GET / (a pointer to the docs, no auth), GET /v1/health/live
 * (liveness for load balancers: no auth, never touches the cluster) and GET /v1/health (the
 * cluster's health aggregate, admin only: 200 when healthy, 503 with the reasons when not;
 * `?lagEntries=N` and `?lagSeconds=N` override the configured lag limits for one request).
 */
import type { Hono } from "hono";
import type { Cluster } from "./cluster.ts";
import { healthLagEntriesMaxDefault, healthLagSecondsMaxDefault, summarizeHealth } from "./health-summary.ts";
import { queryOf } from "./parse.ts";
import { problem, problemOfClusterError } from "./problem.ts";
import { addRoute, jsonResponse } from "./route.ts";
import type { Guards } from "./route.ts";
import { healthAnswer, healthQuery, objectAnswer } from "./openapi/schemas.ts";
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
      const query = queryOf(request, ["lagEntries", "lagSeconds"]);
      const asked = query.get("lagEntries");
      if (asked !== undefined && !/^[0-9]{1,9}$/.test(asked)) throw problem("badQuery", "lagEntries must be an integer from 0 to 999999999");
      const askedSeconds = query.get("lagSeconds");
      if (askedSeconds !== undefined && !/^[0-9]{1,6}$/.test(askedSeconds)) throw problem("badQuery", "lagSeconds must be an integer from 0 to 999999");
      const result = await (options.groupHealth ?? (() => cluster.health()))();
      if (!result.ok) throw problemOfClusterError(result.error, "the health check");
      const lagSecondsMax = askedSeconds === undefined ? lagSecondsMaxDefault : Number(askedSeconds);
      const summary = summarizeHealth(result.value.groups, asked === undefined ? lagEntriesMaxDefault : Number(asked), lagSecondsMax);
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
