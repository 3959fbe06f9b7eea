/**
 * Proves `edgeraft load` resends the operations a batch answered with 503 unavailable (the group
 * applied nothing) and counts the others as written, and that it gives up after its rounds with
 * exit code 3: the CLI runs as a process against a real local HTTP server that answers from a script.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../e2e/wrangler.ts";

const scratch = mkdtempSync(join(tmpdir(), "edgeraft-load-resend-"));
let server: Server;
let url: string;
/** Keys the server refuses with 503 unavailable, and how many more times it refuses each. */
let refusals = new Map<string, number>();
let batchesReceived = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += String(chunk)));
    request.on("end", () => {
      batchesReceived++;
      const { operations } = JSON.parse(body) as { operations: { key: string }[] };
      const results = operations.map(({ key }) => {
        const left = refusals.get(key) ?? 0;
        if (left === 0) return { op: "put", key, status: 200, group: "default", version: 1 };
        refusals.set(key, left - 1);
        return { op: "put", key, status: 503, code: "unavailable", detail: "replica 3 answered notLeader" };
      });
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ results }));
    });
  });
  const port = await freePort();
  await new Promise<void>((done) => server.listen(port, "127.0.0.1", done));
  url = `http://127.0.0.1:${port}`;
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  return new Promise<void>((done) => server.close(() => done()));
});

function load(file: string): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [resolve("bin/edgeraft.ts"), "load", file, "--json", "--batch-size", "4"], {
    env: { ...process.env, EDGERAFT_URL: url, EDGERAFT_TOKEN: "t" }, stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += String(chunk)));
  return new Promise((done) => child.on("close", (code) => done({ code, stdout })));
}

describe("edgeraft load and 503 unavailable", () => {
  it("resends refused operations until they are written", async () => {
    const file = join(scratch, "ten.jsonl");
    writeFileSync(file, Array.from({ length: 10 }, (_, index) => JSON.stringify({ key: `k${index}`, value: "v" })).join("\n"));
    refusals = new Map([["k1", 1], ["k7", 2]]);
    batchesReceived = 0;
    const run = await load(file);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ lines: 10, written: 10, failed: 0, resent: 3 });
    expect(batchesReceived).toBe(3 + 1 + 1);
  });

  it("gives up after its rounds and exits 3", async () => {
    const file = join(scratch, "one.jsonl");
    writeFileSync(file, '{"key":"stuck","value":"v"}\n');
    refusals = new Map([["stuck", 100]]);
    const run = await load(file);
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ written: 0, failed: 1, resent: 4 });
  });
});
