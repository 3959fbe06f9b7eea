/** Starts one wrangler dev for the end-to-end suite and stops it afterwards. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startWrangler, type RunningWrangler } from "./wrangler.ts";

let running: RunningWrangler | undefined;
let persistDir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  persistDir = mkdtempSync(join(tmpdir(), "edgeraft-e2e-"));
  // Automatic splits off: these tests shape the keyspace themselves (auto-balance.test.ts runs its own).
  // Leader balancing off: these tests place leaders themselves (leader-locality.test.ts runs its own).
  running = await startWrangler({ persistDir, vars: { SPLIT_KEYS: "1000000000", SPLIT_WRITES_PER_SECOND: "1000000000", LEADER_BALANCE_MS: "off" } });
  project.provide("baseUrl", running.url);
  project.provide("metricsUrls", [running.url]); // the stats aggregate behind the one Worker shows every replica
}

export async function teardown(): Promise<void> {
  await running?.stop();
  if (persistDir !== undefined) rmSync(persistDir, { recursive: true, force: true });
}

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    /** The base URLs whose /metrics together show every replica, as a Prometheus scrape config would list them. */
    metricsUrls: string[];
  }
}
