import { defineConfig } from "vitest/config";

// Tests of the Deno host, run by the real Deno binary from the npm package `deno`:
// `deno run -A node_modules/vitest/vitest.mjs run -c vitest.deno.config.ts` (npm run test:deno).
export default defineConfig({
  test: {
    include: ["test/deno/**/*.test.ts"],
    pool: "forks",
    testTimeout: 60_000,
  },
});
