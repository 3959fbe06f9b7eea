import { defineConfig } from "vitest/config";

// End-to-end tests against a real `wrangler dev` that the global setup starts and stops.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    globalSetup: ["test/e2e/global-setup.ts"],
    setupFiles: ["test/e2e/cleanup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
