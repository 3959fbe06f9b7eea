/**
 * `npm run deno:cluster`: a local 3-node edgeraft cluster of Deno processes (the `deno` binary of
 * the npm package) on http://127.0.0.1:8790, 8791 and 8792, with the admin token of `npm start`
 * (.dev.vars, created from .dev.vars.example when missing) and data under .deno-cluster/ (kept
 * across runs). Ctrl-C stops every node cleanly. PORTS=a,b,c, DATA=dir and ADMIN_TOKEN override.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { nodeCommandLine } from "../src/hosts/deno/arguments.ts";

if (process.env.ADMIN_TOKEN === undefined && !existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("created .dev.vars from .dev.vars.example (it holds the local ADMIN_TOKEN)");
}
const adminToken = process.env.ADMIN_TOKEN ?? /^ADMIN_TOKEN=(.*)$/m.exec(readFileSync(".dev.vars", "utf8"))?.[1]?.trim();
if (adminToken === undefined || adminToken === "") {
  console.error("no ADMIN_TOKEN in .dev.vars");
  process.exit(2);
}
const ports = (process.env.PORTS ?? "8790,8791,8792").split(",").map(Number);
const dataDirectory = process.env.DATA ?? ".deno-cluster";
// Only these three processes need the secret, so each run makes a fresh one.
const clusterSecret = process.env.EDGERAFT_CLUSTER_SECRET ?? randomBytes(24).toString("hex");

const children: ChildProcess[] = ports.map((_, i) => {
  const id = i + 1;
  const child = spawn("node_modules/deno/deno", nodeCommandLine({ id, dataDirectory, ports }), {
    env: { ...process.env, ADMIN_TOKEN: adminToken, EDGERAFT_CLUSTER_SECRET: clusterSecret, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const prefix = (chunk: Buffer) => String(chunk).split("\n").filter((line) => line !== "").map((line) => `[node ${id}] ${line}\n`).join("");
  child.stdout?.on("data", (chunk: Buffer) => process.stdout.write(prefix(chunk)));
  child.stderr?.on("data", (chunk: Buffer) => process.stderr.write(prefix(chunk)));
  child.on("exit", (code, signal) => {
    if (stopping) return;
    console.error(`[node ${id}] exited (${signal ?? code}); the other nodes keep running`);
    // 2: its data directory is not its own, most likely made with other PORTS (node-identity.ts).
    if (code === 2) console.error(`[node ${id}] was its data under ${dataDirectory} made with other PORTS? Use DATA=<another directory>, or remove ${dataDirectory} (and its data)`);
  });
  return child;
});

waitUntilLive().then(
  () => console.log(`edgeraft Deno cluster: http://127.0.0.1:${ports[0]} (any node: ${ports.map((port) => `:${port}`).join(", ")}); admin token from .dev.vars; Ctrl-C stops it`),
  (error: unknown) => console.error(String(error)),
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    const exits = children.map((child) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", resolve))));
    for (const child of children) child.kill("SIGTERM");
    void Promise.all(exits).then(() => {
      console.log("edgeraft Deno cluster stopped");
      process.exit(0);
    });
  });
}

async function waitUntilLive(): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (const port of ports) {
    for (;;) {
      const live = await fetch(`http://127.0.0.1:${port}/v1/health/live`).then((response) => response.ok, () => false);
      if (live) break;
      if (Date.now() > deadline) throw new Error(`node on port ${port} did not start in 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
