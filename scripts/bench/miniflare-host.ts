/**
 * The runtime without wrangler: the bundled Worker run by Miniflare's Node API (v4), with the same
 * Durable Object bindings as wrangler.toml (SQLite-backed ReplicaObject and MetaObject) plus the
 * bench-only probe object, state on disk in a temporary directory, BENCH=on for the in-runtime
 * load routes, and automatic splits off (as wrangler-host.ts).
 */
import { readFileSync } from "node:fs";
import type { Readable } from "node:stream";
import { Miniflare } from "miniflare";
import type { WorkerBundle } from "./bundle.ts";
import { onCleanup } from "./cleanup.ts";
import { automaticSplitsOff } from "./wrangler-host.ts";

/** A running Miniflare. */
export interface MiniflareHost {
  /** Its HTTP address (straight into workerd, no proxy in between). */
  url: string;
  /** The compatibility date it runs with (wrangler.toml's, capped at what its workerd supports). */
  compatibilityDate: string;
  /** The workerd version Miniflare runs. */
  workerdVersion: string;
  /** Mean Durable Object to Durable Object round trip over `count` sequential fetches (with a row written on each side, or not). */
  objectRoundTripMs(options: { count: number; write: boolean }): Promise<number>;
  /** Mean write step of the probe: with one peer a row and its flush; with two, the replicated shape (see probe-object.ts). */
  writeStepMs(options: { count: number; peers: number }): Promise<number>;
  stop(): Promise<void>;
}

/** The last lines workerd printed (warnings about alarms and the like), for error reports. */
let runtimeOutput = "";

function keepRuntimeOutput(chunk: unknown): void {
  runtimeOutput = (runtimeOutput + String(chunk)).slice(-20_000);
}

/** What Miniflare's workerd printed last (its output is kept, not shown, to keep the report readable). */
export function miniflareOutput(): string {
  return runtimeOutput;
}

/** Starts Miniflare with the bundled Worker; `stateDirectory` holds the Durable Objects' SQLite files. */
export async function startMiniflare(options: { bundle: WorkerBundle; stateDirectory: string; adminToken: string; inspectorPort?: number; bindings?: Record<string, string> }): Promise<MiniflareHost & { replicaNamespace(): Promise<{ get(name: string): { fetch(url: string): Promise<Response> } }> }> {
  const compatibilityDate = [wranglerCompatibilityDate(), await workerdCompatibilityDateMax()].sort()[0]!;
  const miniflare = new Miniflare({
    modules: true,
    scriptPath: options.bundle.scriptPath,
    modulesRoot: options.bundle.directory,
    compatibilityDate,
    cf: false,
    bindings: { ADMIN_TOKEN: options.adminToken, BENCH: "on", LOCATIONS: "wnam,weur,apac", ...Object.fromEntries(automaticSplitsOff), ...options.bindings },
    durableObjects: {
      REPLICA: { className: "ReplicaObject", useSQLite: true },
      META: { className: "MetaObject", useSQLite: true },
      STATS: { className: "StatsObject", useSQLite: true },
      PROBE: { className: "ProbeObject", useSQLite: true },
    },
    durableObjectsPersist: options.stateDirectory,
    ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
      stdout.on("data", (chunk: Buffer) => keepRuntimeOutput(chunk));
      stderr.on("data", (chunk: Buffer) => keepRuntimeOutput(chunk));
    },
  });
  const unregister = onCleanup("miniflare", () => miniflare.dispose());
  const url = (await miniflare.ready).toString().replace(/\/$/, "");
  const workerdVersion = (JSON.parse(readFileSync("node_modules/workerd/package.json", "utf8")) as { version: string }).version;
  return {
    url,
    compatibilityDate,
    workerdVersion,
    objectRoundTripMs: async ({ count, write }) => {
      const namespace = await miniflare.getDurableObjectNamespace("PROBE");
      const response = await namespace.get(namespace.idFromName("probe-1")).fetch(`https://probe/ping?peer=probe-2&count=${count}&write=${write ? 1 : 0}`);
      const body = (await response.json()) as { count: number; elapsedMs: number };
      return body.elapsedMs / body.count;
    },
    writeStepMs: async ({ count, peers }) => {
      const namespace = await miniflare.getDurableObjectNamespace("PROBE");
      const names = Array.from({ length: peers }, (_, i) => `probe-step-peer-${i + 1}`).join(",");
      const response = await namespace.get(namespace.idFromName("probe-step")).fetch(`https://probe/step?count=${count}&peers=${names}`);
      const body = (await response.json()) as { count: number; elapsedMs: number };
      return body.elapsedMs / body.count;
    },
    replicaNamespace: async () => {
      const namespace = await miniflare.getDurableObjectNamespace("REPLICA");
      return { get: (name: string) => namespace.get(namespace.idFromName(name)) as unknown as { fetch(url: string): Promise<Response> } };
    },
    stop: async () => {
      unregister();
      await miniflare.dispose();
    },
  };
}

/** The newest compatibility date Miniflare's workerd supports (the package exports it; it ships no types). */
async function workerdCompatibilityDateMax(): Promise<string> {
  const specifier: string = "workerd";
  const workerd = (await import(specifier)) as { compatibilityDate: string };
  return workerd.compatibilityDate;
}

/** The compatibility_date of wrangler.toml. */
function wranglerCompatibilityDate(): string {
  const match = /^compatibility_date\s*=\s*"([0-9-]+)"/m.exec(readFileSync("wrangler.toml", "utf8"));
  if (match === null) throw new Error("wrangler.toml has no compatibility_date");
  return match[1]!;
}
