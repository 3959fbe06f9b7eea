/**
 * The command line and environment of a Deno node, checked: `--id N`, `--data DIR`,
 * `--nodes 1=host:port,2=host:port,...` (every node, this one included), optional `--tick-ms N` and
 * `--quiesce off` (groups never go quiet: only for measuring heartbeat traffic), `--sync-delay-ms N`
 * and `--sync-siblings N` (group commit under load: ClusterNodeOptions.syncDelay), `--tls-cert FILE
 * --tls-key FILE` (serve HTTPS and dial peers over wss://; every node needs them, and trusts the
 * cluster's CA through Deno's DENO_CERT);
 * EDGERAFT_CLUSTER_SECRET (required), ADMIN_TOKEN, FAULTS (`on`: the /v1/faults routes, for
 * tests only) and the thresholds of automatic splits and merges (SPLIT_KEYS, SPLIT_BYTES,
 * SPLIT_WRITES_PER_SECOND, MERGE_KEYS, IDLE_AFTER_MS, as on the Worker) from the environment.
 */
import type { NodeAddress } from "./node-transport.ts";
import type { ReplicaTiming } from "../common/replica-settings.ts";
import type { BalanceThresholds } from "../../multiraft/balance.ts";
import { idleAfterMsOf, thresholdsOf } from "../common/load-reporter.ts";

/**
 * PostgreSQL's commit_delay and commit_siblings: a node with at least `siblings` writes in
 * flight (client requests other than GET, and writes forwarded to its replicas) starts its WAL syncs at least
 * `ms` milliseconds apart, so more writes share each sync, commit and pass; a node with fewer
 * syncs at once, so a lone client's write never waits. `ms` 0 turns it off.
 */
export interface SyncDelay {
  readonly ms: number;
  readonly siblings: number;
}

/** Measured with `npm run bench:deno` (docs/deno.md, Benchmark, sixth session): 4 ms from 16 writes in flight. */
export const defaultSyncDelay: SyncDelay = { ms: 4, siblings: 16 };

/** How a node is configured. */
export interface ClusterNodeOptions {
  id: number;
  /** Every node of the cluster, this one included. */
  nodes: NodeAddress[];
  /** Where this node keeps its database (`node.sqlite`). */
  dataDirectory: string;
  /** Shared by all nodes; peers must present it. */
  clusterSecret: string;
  /** The admin bearer token of the public API (ADMIN_TOKEN). */
  adminToken: string | undefined;
  timing?: Partial<ReplicaTiming>;
  /** Serve the /v1/faults routes (FAULTS=on; dev and tests only): transport faults, crashes and the router-side halts. */
  faults?: boolean;
  /** Serve HTTPS and dial peers over TLS: the certificate and key files (PEM) of this node. */
  tls?: { certFile: string; keyFile: string };
  /** Automatic splits and merges: the thresholds the metadata group's balancer decides by, and when a data group counts as idle (SPLIT_KEYS, ... IDLE_AFTER_MS). */
  balance?: { thresholds: BalanceThresholds; idleAfterMs?: number };
  /** Group commit under load (defaultSyncDelay): with `siblings` writes in flight or more, WAL syncs start at least `ms` apart. */
  syncDelay?: SyncDelay;
}

/** The longest group-commit delay a node takes, in milliseconds. */
export const syncDelayMsMax = 50;

/** `text` as a whole number of digits, `fallback` when absent, undefined when malformed. */
function wholeNumber(text: string | undefined, fallback: number): number | undefined {
  if (text === undefined) return fallback;
  return /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}

/** Parsed options, or why they are wrong. */
export type ParsedArguments = { ok: true; options: ClusterNodeOptions } | { ok: false; error: string };

/** Parses `args` and the environment (read through `env`). */
export function parseNodeArguments(args: readonly string[], env: (name: string) => string | undefined): ParsedArguments {
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i]!;
    const value = args[i + 1];
    if (!name.startsWith("--") || value === undefined) return { ok: false, error: `expected --name value pairs, got ${name}` };
    values.set(name.slice(2), value);
  }
  const id = Number(values.get("id"));
  if (!Number.isSafeInteger(id) || id < 1) return { ok: false, error: "--id must be a positive integer" };
  const dataDirectory = values.get("data");
  if (dataDirectory === undefined || dataDirectory === "") return { ok: false, error: "--data DIR is required" };
  const nodes: NodeAddress[] = [];
  for (const part of (values.get("nodes") ?? "").split(",").filter((p) => p !== "")) {
    const match = /^(\d+)=([^:]+):(\d+)$/.exec(part);
    if (match === null) return { ok: false, error: `--nodes entry ${part} is not id=host:port` };
    nodes.push({ id: Number(match[1]), host: match[2]!, port: Number(match[3]) });
  }
  if (!nodes.some((node) => node.id === id)) return { ok: false, error: `--nodes must list this node (${id})` };
  if (new Set(nodes.map((node) => node.id)).size !== nodes.length) return { ok: false, error: "--nodes lists a node id twice" };
  const clusterSecret = env("EDGERAFT_CLUSTER_SECRET") ?? "";
  if (clusterSecret.length < 16) return { ok: false, error: "EDGERAFT_CLUSTER_SECRET must be set (at least 16 characters)" };
  const tickMs = values.has("tick-ms") ? Number(values.get("tick-ms")) : undefined;
  if (tickMs !== undefined && (!Number.isSafeInteger(tickMs) || tickMs < 1)) return { ok: false, error: "--tick-ms must be a positive integer" };
  const quiesce = values.get("quiesce") ?? "on";
  if (quiesce !== "on" && quiesce !== "off") return { ok: false, error: "--quiesce must be on or off" };
  const timing = { ...(tickMs === undefined ? {} : { tickMs }), ...(quiesce === "off" ? { quiesce: false } : {}) };
  const delayMs = wholeNumber(values.get("sync-delay-ms"), defaultSyncDelay.ms);
  const siblings = wholeNumber(values.get("sync-siblings"), defaultSyncDelay.siblings);
  // Every output a sync gates (votes, acknowledgements) waits for it: far below a heartbeat.
  if (delayMs === undefined || delayMs > syncDelayMsMax) return { ok: false, error: `--sync-delay-ms must be an integer from 0 to ${syncDelayMsMax}` };
  if (siblings === undefined || siblings < 1) return { ok: false, error: "--sync-siblings must be a positive integer" };
  const syncDelay: SyncDelay = { ms: delayMs, siblings };
  const certFile = values.get("tls-cert");
  const keyFile = values.get("tls-key");
  if ((certFile === undefined) !== (keyFile === undefined)) return { ok: false, error: "--tls-cert and --tls-key go together" };
  if (certFile === "" || keyFile === "") return { ok: false, error: "--tls-cert and --tls-key name PEM files" };
  const tls = certFile === undefined || keyFile === undefined ? {} : { tls: { certFile, keyFile } };
  const settings = { SPLIT_KEYS: env("SPLIT_KEYS"), SPLIT_BYTES: env("SPLIT_BYTES"), SPLIT_WRITES_PER_SECOND: env("SPLIT_WRITES_PER_SECOND"), MERGE_KEYS: env("MERGE_KEYS"), IDLE_AFTER_MS: env("IDLE_AFTER_MS") };
  const idleAfterMs = idleAfterMsOf(settings);
  const balance = { thresholds: thresholdsOf(settings), ...(idleAfterMs === undefined ? {} : { idleAfterMs }) };
  return {
    ok: true,
    options: { id, nodes, dataDirectory, clusterSecret, adminToken: env("ADMIN_TOKEN"), balance, syncDelay, ...tls, ...(Object.keys(timing).length === 0 ? {} : { timing }), ...(env("FAULTS") === "on" ? { faults: true } : {}) },
  };
}

/**
 * V8 settings of a node process (`deno run --v8-flags=...`, also in deno.json's `node` task). V8's
 * memory reducer shrinks the heap of a process 8 s after its allocation rate drops, which suits a
 * browser tab; a node whose load pauses for longer than that then spends its next seconds growing
 * the heap back, at about a fifth more CPU per write (measured in alternating cells with pauses of
 * 15 to 30 s: docs/deno.md). A node waits a minute instead, as server runtimes return memory
 * lazily; an idle node still shrinks, a minute later.
 */
export const memoryReducerDelayMs = 60_000;
export const nodeV8Flags: readonly string[] = [`--memory-reducer-delay-ms=${memoryReducerDelayMs}`];

/** The `deno` arguments that start node `id` of a loopback cluster on `ports` (node i + 1 on ports[i]). */
export function nodeCommandLine(options: { id: number; dataDirectory: string; ports: readonly number[]; tickMs?: number; quiesce?: boolean; syncDelayMs?: number; tls?: { certFile: string; keyFile: string } }): string[] {
  const nodes = options.ports.map((port, i) => `${i + 1}=127.0.0.1:${port}`).join(",");
  const args = ["run", `--v8-flags=${nodeV8Flags.join(",")}`, "--allow-net", "--allow-read", "--allow-write", "--allow-env", "src/hosts/deno/main.ts"];
  args.push("--id", String(options.id), "--data", `${options.dataDirectory}/node-${options.id}`, "--nodes", nodes);
  if (options.tickMs !== undefined) args.push("--tick-ms", String(options.tickMs));
  if (options.quiesce === false) args.push("--quiesce", "off");
  if (options.syncDelayMs !== undefined) args.push("--sync-delay-ms", String(options.syncDelayMs));
  if (options.tls !== undefined) args.push("--tls-cert", options.tls.certFile, "--tls-key", options.tls.keyFile);
  return args;
}
