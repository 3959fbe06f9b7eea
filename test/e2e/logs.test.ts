/**
 * Proves the structured logs on wrangler dev: with LOG_LEVEL=info, creating a group, splitting it,
 * moving a range, merging and removing print one JSON line per event (groupCreated, splitStarted,
 * moveStarted, moveFinished, splitFinished, mergeStarted, mergeFinished, groupRemoved) naming the
 * group, and an automatic split prints the metadata group's `balance` decision; at the default
 * level the same operations print none of them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EdgeraftClient } from "../../src/client/index.ts";
import { e2eAdminToken, startWrangler, type RunningWrangler } from "./wrangler.ts";

type Line = { level: string; event: string; group?: string; [field: string]: unknown };

/** The structured log lines in wrangler dev's output (other output is skipped). */
function logLines(output: string): Line[] {
  return output.split("\n").flatMap((line) => {
    const start = line.indexOf('{"level":');
    if (start < 0) return [];
    try {
      return [JSON.parse(line.slice(start)) as Line];
    } catch {
      return [];
    }
  });
}

/** Creates a prefix group over four keys, splits it, moves a range back to default, merges, removes. */
async function reshape(running: RunningWrangler): Promise<void> {
  const client = new EdgeraftClient({ url: running.url, token: e2eAdminToken });
  for (const letter of "abcd") await client.put(`logs/${letter}`, letter);
  await client.groups.create({ name: "logs", prefix: "logs/", replicas: 3 });
  await client.groups.splitGroup("logs", { at: "logs/c", name: "logs-hi" });
  await client.groups.moveRange({ start: "logs/d", end: "logs/e" }, "default");
  await client.groups.mergeGroups("logs", "logs-hi");
  await client.groups.remove("logs");
  expect((await client.get("logs/c"))?.text).toBe("c");
}

async function withWrangler(vars: Record<string, string>, run: (running: RunningWrangler) => Promise<void>): Promise<string> {
  const persistDir = mkdtempSync(join(tmpdir(), "edgeraft-logs-"));
  const running = await startWrangler({ persistDir, vars });
  try {
    await run(running);
    return running.output();
  } finally {
    await running.stop();
    rmSync(persistDir, { recursive: true, force: true });
  }
}

describe("structured logs", () => {
  it("prints one JSON line per reshaping event and balance decision at LOG_LEVEL=info", async () => {
    const output = await withWrangler({ LOG_LEVEL: "info", SPLIT_KEYS: "30" }, async (running) => {
      await reshape(running);
      const client = new EdgeraftClient({ url: running.url, token: e2eAdminToken });
      await client.batch(Array.from({ length: 40 }, (_, index) => ({ op: "put" as const, key: `bulk/${String(index).padStart(2, "0")}`, value: "v" })));
      await expect.poll(async () => {
        await client.put("bulk/00", "again");
        return logLines(running.output()).some((line) => line.event === "balance");
      }, { timeout: 60_000, interval: 500 }).toBe(true);
    });
    const lines = logLines(output);
    const events = (group: string) => lines.filter((line) => line.group === group).map((line) => line.event);
    expect(events("logs")).toEqual(expect.arrayContaining(["groupCreated", "moveFinished", "splitStarted", "splitFinished", "mergeStarted", "mergeFinished", "groupRemoved"]));
    expect(events("logs-hi")).toEqual(expect.arrayContaining(["groupCreated", "moveStarted", "groupRemoved"]));
    const split = lines.find((line) => line.event === "splitStarted" && line.group === "logs");
    expect(split).toMatchObject({ level: "info", newGroup: "logs-hi", splitAt: "logs/c", time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(lines.find((line) => line.event === "moveFinished" && line.group === "logs-hi" && line.to === "default")).toMatchObject({ start: "logs/d", end: "logs/e", records: 1 });
    const balance = lines.find((line) => line.event === "balance");
    expect(balance).toMatchObject({ level: "info", kind: "split", group: "default" });
    expect(lines.some((line) => line.event === "groupCreated" && line.auto === true)).toBe(true);
  });

  it("prints none of them at the default level", async () => {
    const output = await withWrangler({}, reshape);
    expect(output).toContain("Ready on"); // the output was captured
    expect(logLines(output).filter((line) => line.level === "info")).toEqual([]);
  });
});
