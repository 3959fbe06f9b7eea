/** Starts one 3-node Deno cluster for the end-to-end suite run against the Deno host, and stops it afterwards. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startDenoCluster, type DenoCluster } from "./deno-cluster.ts";

let running: DenoCluster | undefined;
let dataDirectory: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  dataDirectory = mkdtempSync(join(tmpdir(), "edgeraft-e2e-deno-"));
  // As the wrangler dev of the other suite: no automatic split reshapes a suite's groups under it.
  running = await startDenoCluster({ dataDirectory, faults: true, envOf: () => ({ SPLIT_KEYS: "1000000000", SPLIT_WRITES_PER_SECOND: "1000000000" }) });
  // Node 2, not node 1: requests enter through a node that leads only some groups, so routing to
  // leaders on other nodes is exercised on every call.
  project.provide("baseUrl", running.urls[1]!);
  project.provide("denoNodeUrls", running.urls);
  project.provide("metricsUrls", running.urls); // each node's /metrics shows the replicas it hosts: scrape every node
}

export async function teardown(): Promise<void> {
  await running?.stop();
  if (dataDirectory !== undefined) rmSync(dataDirectory, { recursive: true, force: true });
}

declare module "vitest" {
  export interface ProvidedContext {
    /** Every node's base URL, node 1 first (only in the suite run against the Deno cluster). */
    denoNodeUrls: string[];
  }
}
