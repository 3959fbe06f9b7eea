/**
 * The Worker entry: the Hono app over a cluster of Durable Objects. One app per isolate; the
 * Durable Object classes are exported for wrangler's bindings.
 */
import type { Hono } from "hono";
import { createApp } from "../../router/app.ts";
import { ClusterClient } from "../../router/cluster-client/cluster-client.ts";
import { statsOfReports } from "../../router/metrics/replica-stats.ts";
import { healthOfReports, quietInspectionOfReports, type GroupHealthSource } from "../../router/metrics/report-health.ts";
import { groupHealth } from "../../router/cluster-client/health.ts";
import { readStatsReports } from "./stats-object.ts";
import { DurableObjectDirectory } from "./directory.ts";
import { ReplicaFaultControl } from "../common/replica-fault-control.ts";
import { registerBenchRoutes } from "./bench-route.ts";
import { setLogLevel } from "../../router/log.ts";
import { healthLagEntriesOf, healthLagSecondsOf, locationsOf, type Env } from "./env.ts";

export { ReplicaObject, MetaObject } from "./replica-object.ts";
export { StatsObject } from "./stats-object.ts";

let built: { env: Env; app: Hono } | undefined;

function appFor(env: Env): Hono {
  if (built?.env === env) return built.app;
  setLogLevel(env.LOG_LEVEL);
  const locations = locationsOf(env);
  // GET /v1/groups/{name} reads a quiet group from its replicas' last reports, as GET /v1/health does.
  const quietInspection = quietInspectionOfReports({ read: () => readStatsReports(env), nowMs: () => Date.now() });
  const cluster = new ClusterClient({ directory: new DurableObjectDirectory(env), locations, leaderAdviceFromMeta: true, quietInspection });
  const faults = env.FAULTS === "on" ? new ReplicaFaultControl(cluster) : undefined;
  const healthLagEntriesMax = healthLagEntriesOf(env);
  const healthLagSecondsMax = healthLagSecondsOf(env);
  const app = createApp({ cluster, adminToken: env.ADMIN_TOKEN, replicaStats: statsOfReports(() => readStatsReports(env), () => Date.now()), groupHealth: healthOfClusterReports(cluster, env), ...(faults === undefined ? {} : { faults }), ...(healthLagEntriesMax === undefined ? {} : { healthLagEntriesMax }), ...(healthLagSecondsMax === undefined ? {} : { healthLagSecondsMax }) });
  if (env.BENCH === "on") registerBenchRoutes(app, { cluster, adminToken: env.ADMIN_TOKEN });
  built = { env, app };
  return app;
}

/** GET /v1/health from the replicas' reports to the stats object: it asks (and wakes) only groups that never reported. */
function healthOfClusterReports(cluster: ClusterClient, env: Env): GroupHealthSource {
  return healthOfReports({ list: () => cluster.groups.list(), read: () => readStatsReports(env), ask: (group) => groupHealth(cluster.caller, group), nowMs: () => Date.now() });
}

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    return appFor(env).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
