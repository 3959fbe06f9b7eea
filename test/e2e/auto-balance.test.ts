/**
 * Proves automatic splits and merges end to end, on a system of its own (a wrangler dev, or a
 * 3-node Deno cluster when the suite runs against the Deno host) with low thresholds
 * (split at 200 keys or 20 writes/s, merge quiet groups under 60 keys): a group that grows past the
 * key threshold is split by the metadata group; one that takes writes faster than the load
 * threshold is split again; when keys are deleted and both halves go quiet, the group the split
 * made is merged back. Each step is observed through GET /v1/groups, and every key keeps its value.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { startDenoCluster } from "./deno-cluster.ts";
import { e2eAdminToken, startWrangler } from "./wrangler.ts";

type View = { name: string; ranges: { start: string; end?: string }[]; auto?: boolean };
const keyOf = (index: number) => `auto/${String(index).padStart(3, "0")}`;

describe("automatic splits and merges", () => {
  it("splits by size, splits by load, and merges small quiet groups back", { timeout: 240_000 }, async () => {
    const persistDir = mkdtempSync(join(tmpdir(), "edgeraft-balance-"));
    const running = await startSystem(persistDir, { SPLIT_KEYS: "200", SPLIT_WRITES_PER_SECOND: "20", MERGE_KEYS: "60" });
    const headers = { authorization: `Bearer ${e2eAdminToken}`, "content-type": "application/json" };
    const call = (path: string, init: RequestInit = {}) => fetch(`${running.url}${path}`, { ...init, headers });
    const groups = async () => ((await (await call("/v1/groups")).json()) as { groups: View[] }).groups;
    const autoGroups = async () => (await groups()).filter((group) => group.auto === true && group.ranges.length > 0); // done moving
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const began = Date.now();
    const mark = (step: string) => console.log(`auto-balance: ${step} at ${((Date.now() - began) / 1000).toFixed(1)} s`); // where a timeout stopped
    try {
      // Size: 240 keys, 10 a second (a faster burst is itself a load over the 20 writes/s threshold,
      // and the default group would be split by load before, or besides, the split by size), then
      // slow writes (a few per second) until the default group is split.
      // A batch answers 200 with a status per operation: a put that failed under load (503) wrote
      // nothing, and its key would read 404 at the end as if a reshaping had lost it. Put those again.
      let unwritten = Array.from({ length: 240 }, (_, index) => index);
      for (let attempt = 0; attempt < 10 && unwritten.length > 0; attempt++) {
        const failed: number[] = [];
        for (let first = 0; first < unwritten.length; first += 10) {
          const chunk = unwritten.slice(first, first + 10);
          const paced = pause(1_000);
          const operations = chunk.map((index) => ({ op: "put", key: keyOf(index), value: `v${index}` }));
          const response = await call("/v1/batch", { method: "POST", body: JSON.stringify({ operations }) });
          expect(response.status).toBe(200);
          const { results } = (await response.json()) as { results: { status: number }[] };
          failed.push(...chunk.filter((_, position) => results[position]?.status !== 200));
          await paced;
        }
        if (failed.length > 0) mark(`batch puts of ${failed.map(keyOf).join(" ")} failed; putting them again`);
        unwritten = failed;
      }
      expect(unwritten.map(keyOf)).toEqual([]);
      await pause(3_000);
      let split: View[] = [];
      for (let attempt = 0; attempt < 100 && split.length === 0; attempt++) {
        expect((await call(`/v1/kv/${keyOf(attempt % 240)}`, { method: "PUT", body: `v${attempt % 240}` })).status).toBe(200);
        await pause(300);
        split = await autoGroups();
      }
      mark(`size split seen (${JSON.stringify(split)})`);
      expect(split.length).toBe(1);
      const bySize = split[0]!;
      expect(bySize.ranges.length).toBeGreaterThan(0);

      // Load: many writes per second to the default group's keys until it is split again.
      const defaultKeys = Array.from({ length: 240 }, (_, index) => keyOf(index)).filter((key) => key < bySize.ranges[0]!.start);
      let hammering = true;
      const writers = Array.from({ length: 6 }, async (_, writer) => {
        for (let n = 0; hammering; n++) await call(`/v1/kv/${defaultKeys[(writer * 17 + n) % defaultKeys.length]}`, { method: "PUT", body: `w${writer}-${n}` });
      });
      let byLoad: View[] = [];
      for (let attempt = 0; attempt < 150 && byLoad.length === 0; attempt++) {
        await pause(200);
        byLoad = (await autoGroups()).filter((group) => group.name !== bySize.name);
      }
      hammering = false;
      await Promise.all(writers);
      mark(`load split seen (${JSON.stringify(byLoad)})`);
      expect(byLoad.length).toBe(1);
      const loadGroup = byLoad[0]!;

      // Merge: delete most keys on both sides of the load split, slowly, then let both go quiet.
      const defaultsAfter = defaultKeys.filter((key) => key < loadGroup.ranges[0]!.start);
      const movedKeys = defaultKeys.filter((key) => key >= loadGroup.ranges[0]!.start);
      const deleted = [...defaultsAfter.slice(3), ...movedKeys.slice(3)];
      for (const key of deleted) {
        expect((await call(`/v1/kv/${key}`, { method: "DELETE" })).status).toBe(200);
        await pause(60);
      }
      mark(`${deleted.length} keys deleted`);
      let merged = false;
      for (let attempt = 0; attempt < 150 && !merged; attempt++) {
        await pause(200);
        merged = !(await groups()).some((group) => group.name === loadGroup.name);
      }
      mark(`merge ${merged ? "seen" : "not seen"}`);
      expect(merged).toBe(true);
      const remaining = await groups();
      expect(remaining.map((group) => group.name)).toContain(bySize.name);

      const wrong: string[] = [];
      for (let index = 0; index < 240; index++) {
        const key = keyOf(index);
        const read = await call(`/v1/kv/${key}`);
        const body = await read.text();
        const expected = deleted.includes(key) ? 404 : 200;
        const valueKnown = key >= bySize.ranges[0]!.start; // never written after the load
        if (read.status !== expected || (valueKnown && body !== `v${index}`)) {
          wrong.push(`${key}: expected ${expected}${valueKnown ? ` v${index}` : ""}, got ${read.status} ${body.slice(0, 200)}`);
        }
      }
      if (wrong.length > 0) throw new Error(await explain(wrong, { bySize, loadGroup, deleted }, running.url, running.output()));
    } finally {
      await running.stop();
      rmSync(persistDir, { recursive: true, force: true });
    }
  });
});

/** A system of its own with settings `vars`: a wrangler dev, or a Deno cluster in the suite run against the Deno host. */
async function startSystem(persistDir: string, vars: Record<string, string>): Promise<{ url: string; output(): string; stop(): Promise<void> }> {
  if (inject("denoNodeUrls") === undefined) return startWrangler({ persistDir, vars });
  const cluster = await startDenoCluster({ dataDirectory: persistDir, envOf: () => ({ ...vars, LOG_LEVEL: "info" }) });
  return { url: cluster.urls[1]!, output: () => [1, 2, 3].map((id) => cluster.output(id)).join("\n"), stop: () => cluster.stop() };
}

/** A failure message that says on its own what went wrong: the wrong keys, their owners by the range table now, the groups and the reshaping logged. */
async function explain(wrong: string[], seen: { bySize: View; loadGroup: View; deleted: string[] }, url: string, log: string): Promise<string> {
  const headers = { authorization: `Bearer ${e2eAdminToken}` };
  let table: string;
  let owners = "";
  try {
    const now = ((await (await fetch(`${url}/v1/groups`, { headers })).json()) as { groups: View[] }).groups;
    table = JSON.stringify(now);
    owners = wrong.map((line) => `${line.slice(0, line.indexOf(":"))} -> ${ownerOf(now, line.slice(0, line.indexOf(":"))) ?? "(no group)"}`).join("\n");
  } catch (error) {
    table = `(range table unavailable: ${String(error)})`;
  }
  const reshaping = log.split("\n").filter((line) => /balance|split|merge|[Mm]ove|saga|groupRemoved|groupCreated|Failed|error/.test(line)).slice(-200).join("\n");
  return [
    `${wrong.length} key(s) read wrong after the automatic merge:`, ...wrong,
    `owners by the range table now:`, owners,
    `size split: ${JSON.stringify(seen.bySize)}; load split: ${JSON.stringify(seen.loadGroup)}; deleted ${seen.deleted.length} keys: ${seen.deleted.join(" ")}`,
    `groups now: ${table}`,
    `reshaping in the server's log (last 200 lines):`, reshaping,
  ].join("\n");
}

/** The group whose ranges hold `key`, by a GET /v1/groups view. */
function ownerOf(view: View[], key: string): string | undefined {
  return view.find((group) => group.ranges.some((range) => range.start <= key && (range.end === undefined || key < range.end)))?.name;
}
