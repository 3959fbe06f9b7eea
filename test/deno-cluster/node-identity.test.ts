/**
 * Proves, with the real node process, that a data directory starts only as the node that made it
 * (node-identity.ts): node 1's directory started as node 2, or with a fourth node added to the node
 * ids, exits with code 2 and one line saying what to start instead (no stack trace), and the same
 * directory then starts as node 1 with new addresses.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnNode, testClusterSecret } from "../e2e/deno-cluster.ts";
import { freePort } from "../e2e/wrangler.ts";

const dataDirectory = mkdtempSync(join(tmpdir(), "edgeraft-deno-node-identity-"));
afterAll(() => rmSync(dataDirectory, { recursive: true, force: true }));

/** Starts node `id` over `ports`; resolves once it listens (and stops it) or exits, with its exit code (null: it listened) and all its output. */
async function run(id: number, ports: number[]): Promise<{ code: number | null; output: string }> {
  let output = "";
  const child: ChildProcess = spawnNode({ id, dataDirectory, ports, tickMs: 50, secret: testClusterSecret }, (text) => (output += text));
  let closed: number | null | undefined;
  const close = new Promise<number | null>((resolve) => child.once("close", (code) => resolve((closed = code)))); // its output read to the end
  const deadline = Date.now() + 30_000;
  while (!output.includes('"event":"listening"') && closed === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (closed !== undefined) return { code: closed, output };
  if (!output.includes('"event":"listening"')) throw new Error(`node ${id} neither listened nor exited:\n${output}`);
  child.kill("SIGTERM");
  expect(await close).toBe(0);
  return { code: null, output };
}

describe("a Deno node's data directory", () => {
  it("starts only as the node, and in the cluster of node ids, that made it", async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    expect((await run(1, ports)).code).toBeNull(); // made and recorded as node 1 of nodes 1, 2, 3

    renameSync(join(dataDirectory, "node-1"), join(dataDirectory, "node-2")); // node 1's directory given to node 2
    const swapped = await run(2, ports);
    expect(swapped.code).toBe(2);
    expect(swapped.output).toContain(`edgeraft node: ${join(dataDirectory, "node-2")} is the data directory of node 1, not of node 2: start it with --id 1`);
    expect(swapped.output).not.toMatch(/\n\s+at /); // one line, no stack trace
    renameSync(join(dataDirectory, "node-2"), join(dataDirectory, "node-1"));

    const grown = await run(1, [...ports, await freePort()]);
    expect(grown.code).toBe(2);
    expect(grown.output).toContain("was made in a cluster of nodes 1, 2, 3, and --nodes names nodes 1, 2, 3, 4");

    expect((await run(1, [await freePort(), await freePort(), await freePort()])).code).toBeNull(); // new addresses, the same ids
  });
});
