import { defineConfig } from "vitest/config";

// The public API acceptance tests of test/e2e (those that need no wrangler-only feature such as the
// wrangler restart; the cluster runs with FAULTS=on, so the fault routes work as on wrangler dev)
// against a real 3-process Deno cluster that the global setup starts and stops, plus the Deno
// cluster's own crash and authentication tests. /metrics is per node on Deno: a suite that reads
// it scrapes every target the global setup provides (client.ts scrapeMetrics).
export default defineConfig({
  test: {
    include: [
      "test/e2e/kv.test.ts", "test/e2e/access.test.ts", "test/e2e/bad-input.test.ts", "test/e2e/fuzz.test.ts", "test/e2e/reshape.test.ts",
      "test/e2e/txn.test.ts", "test/e2e/txn-reshape.test.ts", "test/e2e/hashed-tenant.test.ts", "test/e2e/typed-client.test.ts", "test/e2e/cli-replicas.test.ts",
      "test/e2e/leader-crash.test.ts", "test/e2e/leader-transfer.test.ts", "test/e2e/replica-replace.test.ts", "test/e2e/health.test.ts",
      "test/e2e/txn-scan.test.ts", "test/e2e/reshape-steps.test.ts", "test/e2e/reshape-crash.test.ts", "test/e2e/bank.test.ts", "test/e2e/auto-balance.test.ts",
      "test/deno-cluster/**/*.test.ts",
    ],
    globalSetup: ["test/e2e/deno-global-setup.ts"],
    setupFiles: ["test/e2e/cleanup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
