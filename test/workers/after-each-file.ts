/**
 * Runs in every workerd test file (setupFiles): after the file's tests, deletes every Durable
 * Object with its storage and alarm. Replicas keep ticking on their alarm after a test ends; a tick
 * that wakes an object while Vitest tears the file's environment down asks the closing runner for a
 * module and fails with EnvironmentTeardownError, an uncaught exception no test caused.
 */
import { reset } from "cloudflare:test";
import { afterAll } from "vitest";

afterAll(async () => {
  await reset();
});
