/**
 * Runs before every end-to-end test file (setupFiles of both e2e configs): after the file, it kills
 * any wrangler dev or Deno node the file started and left running, also when a test timed out
 * before its own `finally` could stop them. The suite-wide server of the global setup lives in
 * another process and is not touched.
 */
import { afterAll } from "vitest";
import { killStartedDenoNodes } from "./deno-cluster.ts";
import { killStartedWranglers } from "./wrangler.ts";

afterAll(() => {
  killStartedWranglers();
  killStartedDenoNodes();
});
