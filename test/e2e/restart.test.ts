/**
 * Proves that `wrangler dev` keeps its data across a stop and a restart: a separate wrangler dev
 * with its own state directory is written to, stopped, started again on the same state, and read.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EdgeraftClient } from "../../src/client/index.ts";
import { e2eAdminToken, startWrangler } from "./wrangler.ts";

describe("a stop and a restart of wrangler dev", () => {
  it("keeps every acknowledged write", async () => {
    const persistDir = mkdtempSync(join(tmpdir(), "edgeraft-restart-"));
    try {
      const first = await startWrangler({ persistDir });
      const before = new EdgeraftClient({ url: first.url, token: e2eAdminToken });
      const written: Record<string, string> = {};
      for (let i = 0; i < 10; i++) {
        await before.put(`durable-${i}`, `value-${i}`);
        written[`durable-${i}`] = `value-${i}`;
      }
      await before.tenant("keeper").put("t", "tenant value");
      await first.stop();
      const second = await startWrangler({ persistDir });
      const after = new EdgeraftClient({ url: second.url, token: e2eAdminToken });
      try {
        for (const [key, value] of Object.entries(written)) expect((await after.get(key))?.text, key).toBe(value);
        expect((await after.tenant("keeper").get("t"))?.text).toBe("tenant value");
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(persistDir, { recursive: true, force: true });
    }
  });
});
