/**
 * Starts a real cluster of Deno node processes (the binary from the npm package `deno`) on free
 * loopback ports, each with its own data directory, for end-to-end tests: start, SIGKILL one node,
 * restart it on the same data, stop all.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { nodeCommandLine } from "../../src/hosts/deno/arguments.ts";
import { e2eAdminToken, freePort } from "./wrangler.ts";

/** The cluster secret the test clusters use. */
export const testClusterSecret = "e2e-cluster-secret-0123456789";

/** One node of a running cluster. */
interface RunningNode {
  id: number;
  port: number;
  url: string;
  child: ChildProcess | undefined;
  log: string;
  /** The CA the node's certificate is signed by (TLS clusters only). */
  ca?: string;
}

/** PEM files of a TLS cluster: every node serves `certFile` and `keyFile`, and trusts `caFile` (given to Deno as DENO_CERT). */
export interface ClusterTls {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/** A request over HTTPS trusting `ca` (Node's fetch takes no CA of its own): the status and body. */
export function httpsCall(url: string, options: { ca?: string; method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(url, { method: options.method ?? "GET", headers: options.headers, ...(options.ca === undefined ? {} : { ca: options.ca }) }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
    request.setTimeout(15_000, () => request.destroy(new Error(`${url} did not answer in 15 s`)));
    request.end(options.body);
  });
}

/** A running cluster of Deno nodes. */
export interface DenoCluster {
  /** Base URL of every node, by id (1-based: urls[0] is node 1). */
  urls: string[];
  ports: number[];
  /** Kills a node at once (SIGKILL): a crash, not a shutdown. */
  kill(id: number): Promise<void>;
  /** Starts a stopped or killed node again on its data directory and waits until it answers. */
  restart(id: number): Promise<void>;
  /** Stops every node (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
  output(id: number): string;
  /** The process ids of the running nodes (for their CPU time). */
  pids(): number[];
}

/** A request to node `node` (1-based) of the cluster at `urls()`, with `headers` added, bounded by `timeoutMs`. */
export function nodeSender(urls: () => readonly string[], headers: Record<string, string>, timeoutMs: number): (node: number, path: string, init?: RequestInit) => Promise<Response> {
  return (node, path, init = {}) => fetch(`${urls()[node - 1]}${path}`, { ...init, headers: { ...headers, ...init.headers }, signal: AbortSignal.timeout(timeoutMs) });
}

/** PUTs `value` at `path` through `node` until it is acknowledged (200), every 250 ms while the cluster elects; throws after `attempts` more. */
export async function putUntilAcknowledged(send: (node: number, path: string, init?: RequestInit) => Promise<Response>, node: number, path: string, value: string, attempts: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const status = await send(node, path, { method: "PUT", body: value }).then((response) => response.status, () => 0);
    if (status === 200) return;
    if (attempt >= attempts) throw new Error(`${path} was not written through node ${node}: ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Waits until every replica of each of `groups` is reachable and all have applied the same index, as node `baseUrl` reports them (GET /v1/groups/{name}). */
export async function waitForCatchUp(baseUrl: string, groups: readonly string[], headers: Record<string, string>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lagging: string[] = [];
    for (const group of groups) {
      const response = await fetch(`${baseUrl}/v1/groups/${group}`, { headers, signal: AbortSignal.timeout(15_000) });
      const { health } = (await response.json()) as { health: { replicas: { reachable: boolean; applied?: number }[] } };
      const applied = health.replicas.map((replica) => (replica.reachable ? replica.applied : undefined));
      if (applied.some((index) => index === undefined) || new Set(applied).size !== 1) lagging.push(`${group} ${JSON.stringify(applied)}`);
    }
    if (lagging.length === 0) return;
    if (Date.now() > deadline) throw new Error(`replicas did not catch up: ${lagging.join("; ")}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Node processes spawned here and still running. */
const runningNodes = new Set<ChildProcess>();

/** Kills every Deno node this process spawned that still runs (test/e2e/cleanup.ts, after each file; see killStartedWranglers). */
export function killStartedDenoNodes(): void {
  for (const child of runningNodes) child.kill("SIGKILL");
  runningNodes.clear();
}

/** Spawns the process of node `id` (its output goes to `log`); it does not wait for it to listen. */
export function spawnNode(options: { id: number; dataDirectory: string; ports: number[]; tickMs: number; secret: string; quiesce?: boolean; syncDelayMs?: number; faults?: boolean; tls?: ClusterTls; env?: Record<string, string>; denoFlags?: string[] }, log: (text: string) => void): ChildProcess {
  const args = nodeCommandLine(options);
  // Flags for the deno binary itself (scripts/profile-deno.ts: V8's inspector, perf maps), after
  // the node's own so that they win over them (of two --v8-flags giving one V8 flag, the last wins).
  if (options.denoFlags !== undefined) args.splice(args.indexOf("src/hosts/deno/main.ts"), 0, ...options.denoFlags);
  const child = spawn("node_modules/deno/deno", args, {
    env: { ...process.env, EDGERAFT_CLUSTER_SECRET: options.secret, ADMIN_TOKEN: e2eAdminToken, NO_COLOR: "1", ...(options.faults === true ? { FAULTS: "on" } : {}), ...(options.tls === undefined ? {} : { DENO_CERT: options.tls.caFile }), ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  runningNodes.add(child);
  child.once("exit", () => runningNodes.delete(child));
  child.stdout?.on("data", (chunk) => log(String(chunk)));
  child.stderr?.on("data", (chunk) => log(String(chunk)));
  return child;
}

/** Starts `nodeCount` nodes and waits until each answers /v1/health/live. */
export async function startDenoCluster(options: { dataDirectory: string; nodeCount?: number; tickMs?: number; secret?: string; quiesce?: boolean; syncDelayMs?: number; faults?: boolean; tls?: ClusterTls & { ca: string }; envOf?: (id: number) => Record<string, string>; denoFlagsOf?: (id: number) => string[] }): Promise<DenoCluster> {
  mkdirSync(options.dataDirectory, { recursive: true });
  const count = options.nodeCount ?? 3;
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const scheme = options.tls === undefined ? "http" : "https";
  const nodes: RunningNode[] = ports.map((port, i) => ({ id: i + 1, port, url: `${scheme}://127.0.0.1:${port}`, child: undefined, log: "", ...(options.tls === undefined ? {} : { ca: options.tls.ca }) }));
  const launch = (node: RunningNode) => {
    node.child = spawnNode({ id: node.id, dataDirectory: options.dataDirectory, ports, tickMs: options.tickMs ?? 50, secret: options.secret ?? testClusterSecret, faults: options.faults === true, ...(options.tls === undefined ? {} : { tls: options.tls }), ...(options.quiesce === false ? { quiesce: false } : {}), ...(options.syncDelayMs === undefined ? {} : { syncDelayMs: options.syncDelayMs }), ...(options.envOf === undefined ? {} : { env: options.envOf(node.id) }), ...(options.denoFlagsOf === undefined ? {} : { denoFlags: options.denoFlagsOf(node.id) }) }, (text) => (node.log += text));
  };
  const stopNode = (node: RunningNode, signal: NodeJS.Signals) => {
    const child = node.child;
    node.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill(signal);
      if (signal !== "SIGKILL") setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"), 5_000).unref();
    });
  };
  const nodeOf = (id: number) => nodes[id - 1]!;
  for (const node of nodes) launch(node);
  await Promise.all(nodes.map((node) => waitUntilLive(node)));
  return {
    urls: nodes.map((node) => node.url),
    ports,
    kill: (id) => stopNode(nodeOf(id), "SIGKILL"),
    restart: async (id) => {
      const node = nodeOf(id);
      await stopNode(node, "SIGTERM");
      launch(node);
      await waitUntilLive(node);
    },
    stop: async () => {
      await Promise.all(nodes.map((node) => stopNode(node, "SIGTERM")));
    },
    output: (id) => nodeOf(id).log,
    pids: () => nodes.flatMap((node) => (node.child?.pid === undefined ? [] : [node.child.pid])),
  };
}

async function waitUntilLive(node: RunningNode): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const child = node.child;
    if (child === undefined || child.exitCode !== null) throw new Error(`node ${node.id} exited early:\n${node.log}`);
    try {
      const live = node.ca === undefined ? (await fetch(`${node.url}/v1/health/live`)).status : (await httpsCall(`${node.url}/v1/health/live`, { ca: node.ca })).status;
      if (live === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`node ${node.id} did not start in time:\n${node.log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
