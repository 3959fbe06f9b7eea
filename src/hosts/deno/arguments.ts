/**
 * The command line and environment of a Deno node, checked: `--id N`, `--data DIR`,
 * `--nodes 1=host:port,2=host:port,...` (every node, this one included), optional `--tick-ms N` and
 * `--quiesce off` (groups never go quiet: only for measuring heartbeat traffic), `--tls-cert FILE
 * --tls-key FILE` (serve HTTPS and dial peers over wss://; every node needs them, and trusts the
 * cluster's CA through Deno's DENO_CERT);
 * EDGERAFT_CLUSTER_SECRET (required), ADMIN_TOKEN, FAULTS (`on`: the /v1/faults routes, for
 * tests only) and the thresholds of automatic splits and merges (SPLIT_KEYS, SPLIT_BYTES,
 * SPLIT_WRITES_PER_SECOND, MERGE_KEYS, IDLE_AFTER_MS, as on the Worker) from the environment.
 */
import type { ClusterNodeOptions } from "./cluster-node.ts";
import type { NodeAddress } from "./node-transport.ts";
import { idleAfterMsOf, thresholdsOf } from "../common/load-reporter.ts";

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
    options: { id, nodes, dataDirectory, clusterSecret, adminToken: env("ADMIN_TOKEN"), balance, ...tls, ...(Object.keys(timing).length === 0 ? {} : { timing }), ...(env("FAULTS") === "on" ? { faults: true } : {}) },
  };
}

/** The `deno` arguments that start node `id` of a loopback cluster on `ports` (node i + 1 on ports[i]). */
export function nodeCommandLine(options: { id: number; dataDirectory: string; ports: readonly number[]; tickMs?: number; quiesce?: boolean; tls?: { certFile: string; keyFile: string } }): string[] {
  const nodes = options.ports.map((port, i) => `${i + 1}=127.0.0.1:${port}`).join(",");
  const args = ["run", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "src/hosts/deno/main.ts"];
  args.push("--id", String(options.id), "--data", `${options.dataDirectory}/node-${options.id}`, "--nodes", nodes);
  if (options.tickMs !== undefined) args.push("--tick-ms", String(options.tickMs));
  if (options.quiesce === false) args.push("--quiesce", "off");
  if (options.tls !== undefined) args.push("--tls-cert", options.tls.certFile, "--tls-key", options.tls.keyFile);
  return args;
}
