/**
 * Bench-only routes (`BENCH=on`, dev only, never in a deployed config; admin token required).
 * They generate load from inside the Worker against the cluster client, so `npm run bench` can
 * measure the engine's cost without the local HTTP proxy in the way:
 * - POST /v1/bench/run: N operations (write, linearizable read or stale read) with concurrency C
 *   over keys spread across prefixes; answers the measured LoadOutcome as JSON.
 * - POST /v1/bench/ping: N sequential round trips from the Worker to one replica object
 *   (`/internal/status`), the "DO round trip" the latency bar is stated in. The total elapsed time
 *   is returned too: inside workerd the clock ticks in whole milliseconds, the total over N rounds
 *   gives a precise mean.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { createGuards, addRoute, jsonResponse } from "../../router/route.ts";
import { jsonBodyBytesMax, parseWithSchema, readJson } from "../../router/body.ts";
import { problem } from "../../router/problem.ts";
import type { ClusterClient } from "../../router/cluster-client/cluster-client.ts";
import {
  benchConcurrencyMax,
  benchDurationMsMax,
  benchKeyOf,
  benchKeysPerPrefixMax,
  benchOperationsMax,
  benchValueBytesMax,
  benchValueOf,
  runClosedLoop,
  type LoadOperation,
} from "./bench-load.ts";

/** Most sequential pings of one /v1/bench/ping. */
export const benchPingsMax = 10_000;

/** The kinds of operation a run can issue. */
export type BenchOperationKind = "write" | "read" | "staleRead";

/** Body of POST /v1/bench/run. */
export const benchRunSchema = z.strictObject({
  operation: z.enum(["write", "read", "staleRead"]),
  prefixes: z.array(z.string().min(1).max(256)).min(1).max(256),
  keysPerPrefix: z.number().int().min(1).max(benchKeysPerPrefixMax),
  valueBytes: z.number().int().min(0).max(benchValueBytesMax),
  concurrency: z.number().int().min(1).max(benchConcurrencyMax),
  operationsMax: z.number().int().min(1).max(benchOperationsMax),
  durationMsMax: z.number().int().min(1).max(benchDurationMsMax),
});

/** Body of POST /v1/bench/ping. */
export const benchPingSchema = z.strictObject({
  group: z.string().min(1).max(64),
  count: z.number().int().min(1).max(benchPingsMax),
});

/** What the bench routes need. */
export interface BenchRouteOptions {
  cluster: ClusterClient;
  adminToken: string | undefined;
}

/** Registers the bench routes on `app` (call only when BENCH=on). */
export function registerBenchRoutes(app: Hono, options: BenchRouteOptions): void {
  const guards = createGuards({ adminToken: options.adminToken, cluster: options.cluster });
  addRoute(app, "/v1/bench/run", {
    POST: guards.admin(async (request) => {
      const body = parseWithSchema(benchRunSchema, await readJson(request, { bytesMax: jsonBodyBytesMax, code: "bodyTooLarge" }));
      const operation = benchOperation(options.cluster, body);
      return jsonResponse(await runClosedLoop(body, operation));
    }),
  });
  addRoute(app, "/v1/bench/ping", {
    POST: guards.admin(async (request) => {
      const body = parseWithSchema(benchPingSchema, await readJson(request, { bytesMax: jsonBodyBytesMax, code: "bodyTooLarge" }));
      return jsonResponse(await ping(options.cluster, body.group, body.count));
    }),
  });
}

/** The operation a run repeats: writes and reads through the cluster client, as the public API does. */
function benchOperation(cluster: ClusterClient, body: z.output<typeof benchRunSchema>): LoadOperation {
  const value = benchValueOf(body.valueBytes);
  const keyspace = { kind: "shared" } as const;
  const keyOf = (sequence: number) => benchKeyOf(body.prefixes, body.keysPerPrefix, sequence);
  if (body.operation === "write") {
    return async (sequence) => {
      const result = await cluster.put(keyspace, keyOf(sequence), value);
      return result.ok ? undefined : result.error.code;
    };
  }
  const consistency = body.operation === "read" ? "linearizable" : "stale";
  return async (sequence) => {
    const result = await cluster.get(keyspace, keyOf(sequence), consistency);
    return result.ok || result.error.code === "notFound" ? undefined : result.error.code;
  };
}

/** Times `count` sequential Worker-to-object round trips to the leader (or first replica) of `group`. */
async function ping(cluster: ClusterClient, group: string, count: number): Promise<{ latenciesMs: number[]; elapsedMs: number; replica: number }> {
  const record = await cluster.groups.get(group);
  if (!record.ok) throw problem("groupNotFound", `group ${group}`);
  const replica = cluster.caller.leaderOf(group) ?? record.value.replicas[0]!.id;
  const latenciesMs: number[] = [];
  const startMs = performance.now();
  for (let round = 0; round < count; round++) {
    const beganMs = performance.now();
    const answer = await cluster.caller.direct<{ kind: string }>(record.value, replica, "/internal/status", undefined);
    if (answer === undefined) throw problem("unavailable", `replica ${replica} of ${group} did not answer`);
    latenciesMs.push(Math.round((performance.now() - beganMs) * 100) / 100);
  }
  return { latenciesMs, elapsedMs: performance.now() - startMs, replica };
}
