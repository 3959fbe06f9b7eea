/**
 * Proves that `wrangler dev` keeps its data across a stop and a restart: a separate wrangler dev
 * with its own state directory is written to, stopped, started again on the same state, and read.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { e2eAdminToken, startWrangler } from "./wrangler.ts";

const auth = { authorization: `Bearer ${e2eAdminToken}` };

describe("a stop and a restart of wrangler dev", () => {
  it("keeps every acknowledged write", async () => {
    const persistDir = mkdtempSync(join(tmpdir(), "edgeraft-restart-"));
    try {
      const first = await startWrangler({ persistDir });
      const written: Record<string, string> = {};
      for (let i = 0; i < 10; i++) {
        const response = await fetch(`${first.url}/v1/kv/durable-${i}`, { method: "PUT", body: `value-${i}`, headers: auth });
        expect(response.status).toBe(200);
        written[`durable-${i}`] = `value-${i}`;
      }
      await fetch(`${first.url}/v1/tenants/keeper/kv/t`, { method: "PUT", body: "tenant value", headers: auth });
      await first.stop();
      const second = await startWrangler({ persistDir });
      try {
        for (const [key, value] of Object.entries(written)) {
          const response = await fetch(`${second.url}/v1/kv/${key}`, { headers: auth });
          expect(response.status, key).toBe(200);
          expect(await response.text()).toBe(value);
        }
        expect(await (await fetch(`${second.url}/v1/tenants/keeper/kv/t`, { headers: auth })).text()).toBe("tenant value");
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(persistDir, { recursive: true, force: true });
    }
  });
});
