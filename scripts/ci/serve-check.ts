/**
 * CI check of a serving command the README documents (`npm start`, `FAULTS=on npm start`): runs
 * it on a free port with fresh state, waits until it answers, runs the README's first curl and
 * compares its output with the answer the README prints under it, checks that `/v1/faults` exists
 * exactly when FAULTS=on, then stops the whole process group.
 * Usage: node scripts/ci/serve-check.ts -- npm start       (FAULTS=on in the environment to check that form)
 * Exit 0 when every check passed, 1 otherwise (with the server's output).
 */
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const readmePort = "8787";
const startupMsMax = 120_000;
const stopMsMax = 15_000;

/** The README's first curl, the lines it needs before it (token, header), and its printed answer. */
interface FirstCurl {
  script: string;
  expected: string;
}

function readmeFirstCurl(readme: string): FirstCurl {
  const lines = readme.split("\n");
  const curlAt = lines.findIndex((line) => line.startsWith("curl "));
  if (curlAt < 0) throw new Error("README.md has no line starting with `curl `");
  const blockStart = lines.lastIndexOf("```sh", curlAt);
  const expectedLine = lines[curlAt + 1] ?? "";
  if (!expectedLine.startsWith("# ")) throw new Error(`README.md: the line after the first curl is not its answer: ${expectedLine}`);
  const script = lines.slice(blockStart + 1, curlAt + 1).join("\n");
  return { script, expected: expectedLine.slice(2).trim() };
}

function freePort(): Promise<number> {
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

async function waitUntilLive(url: string, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + startupMsMax;
  while (Date.now() < deadline) {
    if (exited()) throw new Error("the command exited before it served");
    try {
      if ((await fetch(`${url}/v1/health/live`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`not serving after ${startupMsMax / 1000} s`);
}

function adminToken(): string {
  const line = readFileSync(".dev.vars", "utf8").split("\n").find((l) => l.startsWith("ADMIN_TOKEN="));
  if (line === undefined) throw new Error(".dev.vars has no ADMIN_TOKEN");
  return line.slice("ADMIN_TOKEN=".length).trim();
}

async function checks(url: string, port: number): Promise<void> {
  const first = readmeFirstCurl(readFileSync("README.md", "utf8"));
  const script = first.script.replaceAll(`127.0.0.1:${readmePort}`, `127.0.0.1:${port}`);
  const answer = execFileSync("bash", ["-euo", "pipefail", "-c", script], { encoding: "utf8" }).trim();
  if (answer !== first.expected) throw new Error(`the README's first curl answered ${answer}, the README says ${first.expected}`);
  console.log(`README's first curl: ${answer}`);
  const faultsWanted = process.env.FAULTS === "on";
  const faults = await fetch(`${url}/v1/faults`, { headers: { authorization: `Bearer ${adminToken()}` } });
  const faultsStatusWanted = faultsWanted ? 200 : 404;
  if (faults.status !== faultsStatusWanted) throw new Error(`GET /v1/faults answered ${faults.status}, wanted ${faultsStatusWanted} (FAULTS=${process.env.FAULTS ?? ""})`);
  console.log(`GET /v1/faults: ${faults.status} (FAULTS=${process.env.FAULTS ?? "unset"})`);
}

async function main(command: readonly string[]): Promise<number> {
  if (command.length === 0) {
    console.error("usage: node scripts/ci/serve-check.ts -- COMMAND...");
    return 2;
  }
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), "edgeraft-serve-check-"));
  const child = spawn(command[0]!, command.slice(1), {
    env: { ...process.env, PORT: String(port), PERSIST_TO: state, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group: npm, node, wrangler and workerd are stopped together
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += String(chunk)));
  child.stderr.on("data", (chunk) => (output += String(chunk)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  let failure: unknown;
  try {
    await waitUntilLive(url, () => child.exitCode !== null);
    console.log(`${command.join(" ")}: serving on ${url}`);
    await checks(url, port);
  } catch (error) {
    failure = error;
  }
  stopGroup(child.pid!, "SIGTERM");
  const stopped = await Promise.race([exited.then(() => true), sleep(stopMsMax).then(() => false)]);
  if (!stopped) stopGroup(child.pid!, "SIGKILL");
  rmSync(state, { recursive: true, force: true });
  if (failure !== undefined) {
    console.error(`${command.join(" ")}: ${failure instanceof Error ? failure.message : String(failure)}\n--- its output ---\n${output}`);
    return 1;
  }
  if (!stopped) {
    console.error(`${command.join(" ")}: did not stop within ${stopMsMax / 1000} s of SIGTERM`);
    return 1;
  }
  console.log(`${command.join(" ")}: stopped`);
  return 0;
}

function stopGroup(processGroup: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-processGroup, signal);
  } catch {
    // already gone
  }
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

const separator = process.argv.indexOf("--");
process.exit(await main(separator < 0 ? [] : process.argv.slice(separator + 1)));
