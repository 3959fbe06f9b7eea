import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Tests that run inside workerd with real Durable Objects and SQLite (the Workers Vitest plugin).
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: { bindings: { ADMIN_TOKEN: "workers-test-admin", FAULTS: "on", RAFT_TICK_MS: "20", IDLE_AFTER_MS: "1000" } },
    }),
  ],
  test: {
    include: ["test/workers/**/*.test.ts"],
    globalSetup: ["test/support/workerd-log-setup.ts"], // expected aborts are counted, not printed
    setupFiles: ["test/workers/after-each-file.ts"],
    testTimeout: 60_000,
  },
});
