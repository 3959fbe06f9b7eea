import { defineConfig } from "vitest/config";

// Unit, property, engine and simulator tests in Node. Tests inside workerd use
// vitest.workers.config.ts; end-to-end tests against wrangler dev use vitest.e2e.config.ts.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/workers/**", "test/e2e/**", "test/deno/**", "test/deno-cluster/**", "**/node_modules/**"],
    testTimeout: 60_000,
  },
});
