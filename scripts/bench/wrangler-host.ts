/**
 * The runtime through `wrangler dev`: started offline on a free loopback port, state in a
 * temporary directory, the default Raft tick, BENCH=on, automatic splits off, in its own process group so that stopping
 * it stops workerd too. It runs the run's bundle (`--no-bundle`, with a copy of wrangler.toml next
 * to it whose `main` points there), so edits to src/ during a run neither change nor restart it.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { WorkerBundle } from "./bundle.ts";
import { onCleanup } from "./cleanup.ts";

/** Longest wait for wrangler dev to answer, in milliseconds. */
const startupMsMax = 120_000;

/** A running wrangler dev. */
export interface WranglerHost {
  url: string;
  /** The workerd version wrangler runs. */
  workerdVersion: string;
  /** What wrangler dev printed last (at most 20,000 characters), for failure reports. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Settings that turn automatic splits off: wrangler.toml's defaults would split a group under the
 * benchmark's heavier loads and change what a scenario measures (the reshaping scenario splits on
 * purpose, through the API).
 */
export const automaticSplitsOff: readonly (readonly [string, string])[] = [
  ["SPLIT_KEYS", "1000000000"],
  ["SPLIT_BYTES", "1000000000000"],
  ["SPLIT_WRITES_PER_SECOND", "1000000000"],
];

export { freePort } from "../../test/e2e/wrangler.ts";
import { freePort } from "../../test/e2e/wrangler.ts";

/** Starts wrangler dev and waits until it answers. */
export async function startWrangler(options: { bundle: WorkerBundle; persistDirectory: string; adminToken: string }): Promise<WranglerHost> {
  const port = await freePort();
  const config = join(options.bundle.directory, "wrangler.toml");
  const mainLine = `main = ${JSON.stringify(basename(options.bundle.scriptPath))}`;
  writeFileSync(config, readFileSync("wrangler.toml", "utf8").replace(/^main\s*=.*$/m, mainLine));
  const args = ["dev", "--config", config, "--no-bundle", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", options.persistDirectory,
    "--var", `ADMIN_TOKEN:${options.adminToken}`, "--var", "BENCH:on",
    ...automaticSplitsOff.flatMap(([name, value]) => ["--var", `${name}:${value}`]), "--inspector-port", "0", "--log-level", "warn"];
  // The Node running this script (the project's pinned Node 22), not whatever `env node` finds.
  const child = spawn(process.execPath, ["node_modules/wrangler/bin/wrangler.js", ...args], {
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", WRANGLER_SEND_ERROR_REPORTS: "false", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let log = "";
  const keep = (chunk: unknown) => (log = (log + String(chunk)).slice(-20_000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    signalGroup(child.pid!, "SIGTERM");
    const killer = setTimeout(() => signalGroup(child.pid!, "SIGKILL"), 5_000);
    await exited;
    clearTimeout(killer);
    signalGroup(child.pid!, "SIGKILL"); // anything left in the group (workerd)
  };
  const unregister = onCleanup("wrangler dev", stop);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + startupMsMax;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${log}`);
    try {
      if ((await fetch(`${url}/v1/health/live`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`wrangler dev did not answer within ${startupMsMax} ms:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const workerdVersion = packageVersion(["node_modules/wrangler/node_modules/workerd/package.json", "node_modules/workerd/package.json"]);
  return {
    url,
    workerdVersion,
    output: () => log,
    stop: async () => {
      unregister();
      await stop();
    },
  };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/** The version in the first of `paths` that exists. */
function packageVersion(paths: string[]): string {
  const path = paths.find((candidate) => existsSync(candidate));
  return path === undefined ? "unknown" : (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
}
