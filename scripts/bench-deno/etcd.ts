/**
 * A 3-member etcd cluster (the Debian `etcd-server` package's `etcd`) on free loopback ports for
 * the side-by-side benchmark, and its v3 JSON gateway calls (`POST /v3/kv/put`, `/v3/kv/range`,
 * linearizable by default). Absent binary: `findEtcd` says so and the benchmark skips etcd.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { freePort } from "../../test/e2e/wrangler.ts";
import { httpCall, type HttpAnswer } from "./load.ts";

/** A running etcd cluster. */
export interface EtcdCluster {
  clientUrls: string[];
  version: string;
  /** The members' process ids (for their CPU time). */
  pids: number[];
  stop(): Promise<void>;
}

/** The etcd binary's path and version, or undefined when it is not installed. */
export function findEtcd(): { path: string; version: string } | undefined {
  for (const path of ["/usr/bin/etcd", "/usr/local/bin/etcd"]) {
    const probe = spawnSync(path, ["--version"], { encoding: "utf8" });
    if (probe.status === 0) return { path, version: /etcd Version: (\S+)/.exec(probe.stdout)?.[1] ?? "unknown" };
  }
  return undefined;
}

/** Starts three members with data under `dataDirectory` and waits until each reports healthy. */
export async function startEtcd(binary: { path: string; version: string }, dataDirectory: string): Promise<EtcdCluster> {
  const clientPorts = [await freePort(), await freePort(), await freePort()];
  const peerPorts = [await freePort(), await freePort(), await freePort()];
  const initialCluster = peerPorts.map((port, i) => `m${i + 1}=http://127.0.0.1:${port}`).join(",");
  const children: ChildProcess[] = clientPorts.map((clientPort, i) =>
    spawn(binary.path, [
      "--name", `m${i + 1}`, "--data-dir", join(dataDirectory, `m${i + 1}`),
      "--listen-client-urls", `http://127.0.0.1:${clientPort}`, "--advertise-client-urls", `http://127.0.0.1:${clientPort}`,
      "--listen-peer-urls", `http://127.0.0.1:${peerPorts[i]}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${peerPorts[i]}`,
      "--initial-cluster", initialCluster, "--initial-cluster-state", "new", "--initial-cluster-token", "edgeraft-bench",
    ], { stdio: "ignore" }),
  );
  const clientUrls = clientPorts.map((port) => `http://127.0.0.1:${port}`);
  const deadline = Date.now() + 30_000;
  for (const url of clientUrls) {
    for (;;) {
      const healthy = await fetch(`${url}/health`).then(async (r) => ((await r.json()) as { health?: string }).health === "true", () => false);
      if (healthy) break;
      if (Date.now() > deadline) throw new Error(`etcd at ${url} did not become healthy`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    clientUrls,
    version: binary.version,
    pids: children.map((child) => child.pid!),
    stop: () => Promise.all(children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    }))).then(() => undefined),
  };
}

const base64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString("base64");

/** Puts `value` at `key` through the member at `url`; true when etcd acknowledged it. */
export async function etcdPut(url: string, key: string, value: Uint8Array): Promise<boolean> {
  return answered(await httpCall(`${url}/v3/kv/put`, { method: "POST", body: JSON.stringify({ key: base64(key), value: base64(value) }) }));
}

/** Reads `key` linearizably through the member at `url`; true when etcd answered. */
export async function etcdRange(url: string, key: string): Promise<boolean> {
  return answered(await httpCall(`${url}/v3/kv/range`, { method: "POST", body: JSON.stringify({ key: base64(key) }) }));
}

/** Whether the gateway answered 200 with a response header (an error body has none). */
function answered(answer: HttpAnswer): boolean {
  return answer.status === 200 && (JSON.parse(answer.body.toString()) as { header?: unknown }).header !== undefined;
}
