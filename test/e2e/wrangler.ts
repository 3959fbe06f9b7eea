/**
 * Starts a real `wrangler dev` (workerd, real Durable Objects, local SQLite) for end-to-end tests,
 * offline, on a free loopback port, with its state in a directory the caller chooses.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

/** A running wrangler dev. */
export interface RunningWrangler {
  url: string;
  port: number;
  /** The process id of wrangler, which leads its own process group (workerd included). */
  pid: number;
  stop(): Promise<void>;
  /** Kills the whole process group at once (SIGKILL): a crash, not a shutdown. */
  kill(): Promise<void>;
  output(): string;
}

/** The admin token the end-to-end runs use. */
export const e2eAdminToken = "e2e-admin-token";

/** Process groups of the wrangler dev processes started here and still running. */
const runningGroups = new Set<number>();

/**
 * Kills every wrangler dev this process started that is still running (test/e2e/cleanup.ts calls
 * it after each file): a test that timed out abandons its `finally`, and a wrangler (with its
 * workerd) left behind would load the machine for every test after it.
 */
export function killStartedWranglers(): void {
  for (const group of runningGroups) {
    try {
      process.kill(-group, "SIGKILL");
    } catch {
      // already gone
    }
  }
  runningGroups.clear();
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts wrangler dev and waits until it answers; FAULTS=on and a fast tick for tests. */
export async function startWrangler(options: { persistDir: string; port?: number; vars?: Record<string, string> }): Promise<RunningWrangler> {
  const port = options.port ?? (await freePort());
  const extraVars = Object.entries(options.vars ?? {}).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", options.persistDir,
    "--var", `ADMIN_TOKEN:${e2eAdminToken}`, "--var", "FAULTS:on", "--var", "RAFT_TICK_MS:50", ...extraVars, "--inspector-port", "0"];
  const child: ChildProcess = spawn("node_modules/.bin/wrangler", args, {
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", WRANGLER_SEND_ERROR_REPORTS: "false", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  runningGroups.add(child.pid!);
  child.once("exit", () => runningGroups.delete(child.pid!));
  let log = "";
  child.stdout?.on("data", (chunk) => (log += String(chunk)));
  child.stderr?.on("data", (chunk) => (log += String(chunk)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${log}`);
    try {
      const response = await fetch(`${url}/v1/health/live`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      process.kill(-child.pid!, "SIGKILL");
      throw new Error(`wrangler dev did not start in time:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", () => resolve())));
  return {
    url,
    port,
    pid: child.pid!,
    output: () => log,
    kill: () => {
      if (child.exitCode === null) process.kill(-child.pid!, "SIGKILL");
      return exited;
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        process.kill(-child.pid!, "SIGTERM");
        setTimeout(() => child.exitCode === null && process.kill(-child.pid!, "SIGKILL"), 5_000).unref();
      }),
  };
}
