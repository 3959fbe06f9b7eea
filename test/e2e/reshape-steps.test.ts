/**
 * Proves that a range move stopped at any step (the fault routes make its router's driver stop
 * before freeze, copy, release, acquire or route, as if that router died there) leaves the system
 * serving and is finished by whoever meets it: reads and writes of the moving keys succeed (the
 * router waiting out the frozen or unowned range resumes the recorded saga), the operator's next
 * move completes, and every key ends in the target group with its value.
 */
import { describe, expect, it } from "vitest";
import { call, callJson } from "./client.ts";

const json = { "content-type": "application/json" };
const phases = ["freeze", "copy", "release", "acquire", "route"] as const;

describe("a move stopped at each of its steps", () => {
  it("is resumed by whoever meets it, and loses nothing", async () => {
    expect((await call("/v1/groups", { method: "POST", headers: json, body: JSON.stringify({ name: "steps", prefix: "steps/" }) })).status).toBe(201);
    for (const phase of phases) {
      const prefix = `halt-${phase}/`;
      const keys = Array.from({ length: 20 }, (_, index) => `${prefix}${String(index).padStart(2, "0")}`);
      for (const key of keys) expect((await call(`/v1/kv/${key}`, { method: "PUT", body: `v-${key}` })).status).toBe(200);
      const span = { start: prefix, end: `halt-${phase}0` };

      expect((await call("/v1/faults", { method: "POST", headers: json, body: JSON.stringify({ kind: "haltMove", before: phase }) })).status).toBeLessThan(300);
      const halted = await call("/v1/ranges/move", { method: "POST", headers: json, body: JSON.stringify({ ...span, to: "steps" }) });
      expect(halted.status, `the move halted before ${phase}`).toBe(503);

      // The keys stay readable and writable: a caller that meets the unfinished move waits, then resumes it.
      const read = await call(`/v1/kv/${keys[3]}`);
      expect(read.status, `read while halted before ${phase}`).toBe(200);
      expect(await read.text()).toBe(`v-${keys[3]}`);
      const written = await callJson<{ group: string }>(`/v1/kv/${keys[5]}`, { method: "PUT", body: "written while halted" });
      expect(written.status, `write while halted before ${phase}`).toBe(200);

      const finished = await callJson<{ moves: unknown[] }>("/v1/ranges/move", { method: "POST", headers: json, body: JSON.stringify({ ...span, to: "steps" }) });
      expect(finished.status, `${phase}: ${JSON.stringify(finished.body)}`).toBe(200);
      const view = await callJson<{ ranges: { start: string; end?: string }[] }>("/v1/groups/steps");
      expect(view.body.ranges).toContainEqual(span);
      const scan = await callJson<{ entries: { key: string; value: string }[] }>(`/v1/kv?prefix=${encodeURIComponent(prefix)}&limit=100`);
      expect(scan.body.entries.map((entry) => entry.key)).toEqual(keys);
      for (const entry of scan.body.entries) expect(entry.value).toBe(entry.key === keys[5] ? "written while halted" : `v-${entry.key}`);
      const after = await callJson<{ group: string }>(`/v1/kv/${keys[7]}`, { method: "PUT", body: "after" });
      expect(after.body.group).toBe("steps");
    }
  });
});
