/**
 * Proves that a range move survives the death of the router driving it: a wrangler dev of its own
 * is killed (SIGKILL) in the middle of moving 3,000 keys into a new prefix group, at the worst
 * moment (the source has released the range and the target has not acquired it, so no group serves
 * it), and started again on the same state. The saga recorded in the metadata group is then finished by whoever meets it:
 * a write to a key of the moving range succeeds, and an operator's move of the same range resumes
 * the recorded saga. In the end the new group serves the range and every key is there once, with
 * its value and version.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { e2eAdminToken, startWrangler } from "./wrangler.ts";

const keys = Array.from({ length: 3000 }, (_, index) => `bulk/${String(index).padStart(4, "0")}`);
const valueOf = (key: string) => `${key}:${"y".repeat(100)}`;
const noAutoSplit = { SPLIT_KEYS: "1000000000", SPLIT_WRITES_PER_SECOND: "1000000000" };
type View = { ranges?: { start: string; end?: string }[]; state?: string };

describe("a router killed in the middle of a move", () => {
  it("leaves a saga that the restarted system finishes, losing nothing", async () => {
    const persistDir = mkdtempSync(join(tmpdir(), "edgeraft-resume-"));
    const headers = { authorization: `Bearer ${e2eAdminToken}`, "content-type": "application/json" };
    let running = await startWrangler({ persistDir, vars: noAutoSplit });
    const call = (path: string, init: RequestInit = {}) => fetch(`${running.url}${path}`, { ...init, headers });
    try {
      const versions = new Map<string, number>();
      let missing = keys;
      for (let round = 0; missing.length > 0 && round < 10; round++) {
        const failed: string[] = [];
        for (let first = 0; first < missing.length; first += 250) {
          const operations = missing.slice(first, first + 250).map((key) => ({ op: "put", key, value: valueOf(key) }));
          const answer = (await (await call("/v1/batch", { method: "POST", body: JSON.stringify({ operations }) })).json()) as { results: { key: string; status: number; version: number }[] };
          for (const result of answer.results) {
            if (result.status === 200) versions.set(result.key, result.version);
            else failed.push(result.key);
          }
        }
        missing = failed;
      }
      expect(missing).toEqual([]);

      // Stop the move's driver after its commit point (released by the source, not yet acquired by the
      // target: no group serves the range), then kill the whole process.
      expect((await call("/v1/faults", { method: "POST", body: JSON.stringify({ kind: "haltMove", before: "acquire" }) })).status).toBeLessThan(300);
      expect((await call("/v1/groups", { method: "POST", body: JSON.stringify({ name: "bulk", prefix: "bulk/" }) })).status).toBe(503);
      await running.kill();

      running = await startWrangler({ persistDir, vars: noAutoSplit });
      const halfway = (await (await call("/v1/groups/bulk")).json()) as View;
      expect(halfway.ranges).toEqual([]); // the move had not finished when the router died

      const [write, move] = await Promise.all([
        call(`/v1/kv/${keys[10]}`, { method: "PUT", body: "written after the restart" }),
        call("/v1/ranges/move", { method: "POST", body: JSON.stringify({ start: "bulk/", end: "bulk0", to: "bulk" }) }),
      ]);
      expect(write.status).toBe(200);
      expect(((await write.json()) as { group: string }).group).toBe("bulk");
      expect(move.status).toBe(200);
      const finished = (await (await call("/v1/groups/bulk")).json()) as View;
      expect(finished.ranges).toEqual([{ start: "bulk/", end: "bulk0" }]);

      const seen = new Map<string, { value: string; version: number }>();
      let cursor: string | undefined;
      do {
        const page = (await (await call(`/v1/kv?prefix=bulk/&limit=1000${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`)).json()) as {
          entries: { key: string; value: string; version: number }[];
          cursor?: string;
        };
        for (const entry of page.entries) {
          expect(seen.has(entry.key)).toBe(false);
          seen.set(entry.key, { value: entry.value, version: entry.version });
        }
        cursor = page.cursor;
      } while (cursor !== undefined);
      expect([...seen.keys()]).toEqual(keys);
      for (const key of keys) {
        if (key === keys[10]) expect(seen.get(key)!.value).toBe("written after the restart");
        else expect(seen.get(key)).toEqual({ value: valueOf(key), version: versions.get(key) });
      }
    } finally {
      await running.stop();
      rmSync(persistDir, { recursive: true, force: true });
    }
  });
});
