/**
 * Proves that `npm run deno:cluster` (scripts/deno-cluster.ts) starts three nodes that serve the
 * API with the given admin token, prints the URL, and stops every node on Ctrl-C (SIGINT) with
 * exit code 0, leaving no node process behind. Ports and data directory are overridden so the
 * test uses free ports.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../e2e/wrangler.ts";

describe("npm run deno:cluster", () => {
  it("serves the API on three nodes and stops them all on Ctrl-C", async () => {
    const dataDirectory = mkdtempSync(join(tmpdir(), "edgeraft-deno-script-"));
    const ports = [await freePort(), await freePort(), await freePort()];
    const child = spawn("node_modules/.bin/node", ["scripts/deno-cluster.ts"], {
      env: { ...process.env, PORTS: ports.join(","), DATA: dataDirectory, ADMIN_TOKEN: "script-test-token" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += String(chunk)));
    child.stderr.on("data", (chunk) => (output += String(chunk)));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes("edgeraft Deno cluster: http://127.0.0.1:")) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the cluster did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const headers = { authorization: "Bearer script-test-token" };
      expect((await fetch(`http://127.0.0.1:${ports[2]}/v1/kv/script`, { method: "PUT", body: "up", headers })).status).toBe(200);
      expect(await (await fetch(`http://127.0.0.1:${ports[0]}/v1/kv/script`, { headers })).text()).toBe("up");
      expect((await fetch(`http://127.0.0.1:${ports[1]}/v1/kv/script`)).status).toBe(401);
      const pids = [...output.matchAll(/"pid":(\d+)/g)].map((match) => Number(match[1]));
      expect(pids).toHaveLength(3);

      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(output).toContain("edgeraft Deno cluster stopped");
      for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(dataDirectory, { recursive: true, force: true });
    }
  });
});
