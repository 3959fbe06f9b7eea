/**
 * The HTTP front door: a runtime-agnostic Hono app serving the public v1 API over a Cluster. Hosts
 * call `app.fetch(request, env, ctx)`; nothing here imports a runtime (only Web-standard APIs,
 * hono and zod). Unknown paths, including internal replica routes, are 404 `routeNotFound`.
 */
import type { Hono } from "hono";
import { OpenAPIHono } from "@hono/zod-openapi";
import { assert } from "../shared/assert.ts";
import { valueBytesMax } from "../shared/limits.ts";
import { registerBatchRoutes } from "./batch-routes.ts";
import type { Cluster, FaultControl } from "./cluster.ts";
import { registerDashboardRoutes } from "./dashboard/routes.ts";
import { registerFaultRoutes } from "./fault-routes.ts";
import { registerGroupRoutes } from "./group-routes.ts";
import { registerReshapeRoutes } from "./reshape-routes.ts";
import { registerReplicaRoutes } from "./replica-routes.ts";
import { registerLeaderRoutes } from "./leader-routes.ts";
import { registerKvRoutes } from "./kv-routes.ts";
import { registerMetricsRoutes, registerRequestMetrics } from "./metrics/routes.ts";
import { statsOfCluster, type ReplicaStatsSource } from "./metrics/replica-stats.ts";
import type { GroupHealthSource } from "./metrics/report-health.ts";
import { logEvent } from "./log.ts";
import { registerOpenApiRoutes } from "./openapi/routes.ts";
import { problem, problemResponse, ProblemError } from "./problem.ts";
import { createGuards } from "./route.ts";
import { registerServiceRoutes } from "./service-routes.ts";
import { registerTenantRoutes } from "./tenant-routes.ts";
import { registerTxnRoutes } from "./txn-routes.ts";

/** What the app is built from. */
export interface AppOptions {
  /** The cluster every data and admin route is served by. */
  readonly cluster: Cluster;
  /** The admin bearer token (secret ADMIN_TOKEN); undefined or empty makes every authenticated route 503. */
  readonly adminToken: string | undefined;
  /** Fault injection; the /v1/faults routes exist only when this is given (FAULTS=on). */
  readonly faults?: FaultControl;
  /** Largest value a write may carry, in bytes: 1..valueBytesMax, default valueBytesMax. */
  readonly maxValueBytes?: number;
  /** GET /v1/health counts a replica as lagging past this many entries behind its leader (default healthLagEntriesMaxDefault). */
  readonly healthLagEntriesMax?: number;
  /** GET /v1/health counts a replica as lagging when behind its leader's commit for more than this many seconds (default healthLagSecondsMaxDefault). */
  readonly healthLagSecondsMax?: number;
  /** Per-replica numbers for GET /metrics; default: what the cluster's health view says. */
  readonly replicaStats?: ReplicaStatsSource;
  /** Every group's health for GET /v1/health; default: the cluster's health view (which asks every replica). */
  readonly groupHealth?: GroupHealthSource;
}

/** The Hono app serving the v1 API over `options.cluster`. */
export function createApp(options: AppOptions): Hono {
  const maxValueBytes = options.maxValueBytes ?? valueBytesMax;
  assert(Number.isSafeInteger(maxValueBytes) && maxValueBytes >= 1 && maxValueBytes <= valueBytesMax, "maxValueBytes is 1..valueBytesMax");
  const app: Hono = new OpenAPIHono();
  const guards = createGuards({ adminToken: options.adminToken, cluster: options.cluster });
  const requestMetrics = registerRequestMetrics(app);
  app.use("*", async (context, next) => {
    await next();
    const status = context.res.status;
    // A request that ended in a 5xx, except GET /v1/health's 503, which is its answer (the cluster is not healthy).
    if (status < 500 || (status === 503 && new URL(context.req.url).pathname === "/v1/health")) return;
    const body = context.res.headers.get("content-type")?.includes("json") === true ? ((await context.res.clone().json().catch(() => ({}))) as { code?: string; detail?: string }) : {};
    const group = context.res.headers.get("x-edgeraft-group");
    logEvent("warn", "requestFailed", { method: context.req.method, path: new URL(context.req.url).pathname, status, ...(body.code === undefined ? {} : { code: body.code, detail: body.detail }), ...(group === null ? {} : { group }) });
  });
  registerServiceRoutes(app, guards, options.cluster, {
    ...(options.healthLagEntriesMax === undefined ? {} : { healthLagEntriesMax: options.healthLagEntriesMax }),
    ...(options.healthLagSecondsMax === undefined ? {} : { healthLagSecondsMax: options.healthLagSecondsMax }),
    ...(options.groupHealth === undefined ? {} : { groupHealth: options.groupHealth }),
  });
  registerKvRoutes(app, guards, { cluster: options.cluster, valueBytesMax: maxValueBytes });
  registerBatchRoutes(app, guards, { cluster: options.cluster, valueBytesMax: maxValueBytes });
  registerTxnRoutes(app, guards, { cluster: options.cluster, valueBytesMax: maxValueBytes });
  registerGroupRoutes(app, guards, options.cluster);
  registerReshapeRoutes(app, guards, options.cluster);
  registerReplicaRoutes(app, guards, options.cluster);
  registerLeaderRoutes(app, guards, options.cluster);
  registerTenantRoutes(app, guards, options.cluster);
  if (options.faults !== undefined) registerFaultRoutes(app, guards, options.faults);
  registerDashboardRoutes(app, guards);
  registerMetricsRoutes(app, guards, { stats: options.replicaStats ?? statsOfCluster(options.cluster), requests: requestMetrics });
  registerOpenApiRoutes(app, guards);
  app.notFound((context) => problemResponse(problem("routeNotFound", `no route for ${context.req.method} ${new URL(context.req.url).pathname}`)));
  app.onError((error) => {
    if (error instanceof ProblemError) return problemResponse(error);
    console.error("edgeraft router: unexpected error", error);
    return problemResponse(problem("internal", "an unexpected error occurred; it has been logged"));
  });
  return app;
}
