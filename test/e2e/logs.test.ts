/**
 * Proves the structured logs on wrangler dev: with LOG_LEVEL=info, creating a group, splitting it,
 * moving a range, merging and removing print one JSON line per event (groupCreated, splitStarted,
 * moveStarted, moveFinished, splitFinished, mergeStarted, mergeFinished, groupRemoved) naming the
 * group, and an automatic split prints the metadata group's `balance` decision; Raft events print
 * with group, replica and term: a follower cut off and healed after the leader compacted its log
 * gets a snapshot (snapshotSent on the leader, snapshotInstalled on the follower), and a crashed
 * leader, then cut off, is followed by electionWon and leaderChanged at a higher term, after faultInjected; at
 * the default level the same operations (the elections of every new group included) print none.
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

  it("prints snapshots, faults, elections and leader changes with group, replica and term at LOG_LEVEL=info", async () => {
    const group = "raftlog";
    const output = await withWrangler({ LOG_LEVEL: "info", RAFT_SNAPSHOT_ENTRIES: "20" }, async (running) => {
      const client = new EdgeraftClient({ url: running.url, token: e2eAdminToken });
      const faults = (init: RequestInit) => fetch(`${running.url}/v1/faults`, { ...init, headers: { authorization: `Bearer ${e2eAdminToken}`, "content-type": "application/json" } });
      await client.groups.create({ name: group, prefix: `${group}/`, replicas: 3 });
      await client.put(`${group}/0`, "x");
      let leader = 0;
      await expect.poll(async () => (leader = (await client.groups.get(group)).health.leader), { timeout: 20_000, interval: 200 }).toBeGreaterThan(0);
      const follower = leader === 1 ? 2 : 1;
      expect((await faults({ method: "POST", body: JSON.stringify({ kind: "isolate", group, replica: follower }) })).status).toBe(200);
      for (let index = 1; index <= 45; index++) await client.put(`${group}/${index}`, `value ${index}`);
      expect((await faults({ method: "DELETE" })).status).toBe(200);
      await expect.poll(async () => {
        await client.put(`${group}/after`, "y");
        return logLines(running.output()).some((line) => line.event === "snapshotInstalled" && line.group === group);
      }, { timeout: 30_000, interval: 500 }).toBe(true);
      expect((await faults({ method: "POST", body: JSON.stringify({ kind: "crash", group, replica: leader }) })).status).toBe(200);
      // A crashed leader of a quiet group restarts as that group's leader in the same term (its
      // quiet note), so no election need follow the crash; cutting it off forces one.
      expect((await faults({ method: "POST", body: JSON.stringify({ kind: "isolate", group, replica: leader }) })).status).toBe(200);
      await expect.poll(async () => {
        await client.put(`${group}/crash`, "z");
        const lines = logLines(running.output());
        const firstTerm = Math.min(...lines.filter((line) => line.event === "electionWon" && line.group === group).map((line) => Number(line.term)));
        return lines.some((line) => line.event === "electionWon" && line.group === group && Number(line.term) > firstTerm);
      }, { timeout: 30_000, interval: 500 }).toBe(true);
      expect((await faults({ method: "DELETE" })).status).toBe(200);
    });
    const lines = logLines(output).filter((line) => line.group === group);
    for (const line of lines.filter((candidate) => ["electionWon", "leaderChanged", "snapshotSent", "snapshotInstalled", "faultInjected"].includes(candidate.event))) {
      expect(line, JSON.stringify(line)).toMatchObject({ level: "info", group, replica: expect.any(Number), term: expect.any(Number) });
    }
    const sent = lines.find((line) => line.event === "snapshotSent");
    const installed = lines.find((line) => line.event === "snapshotInstalled");
    expect(sent).toMatchObject({ to: installed?.replica, index: expect.any(Number) });
    expect(installed!.index as number).toBeGreaterThan(0);
    expect(lines.some((line) => line.event === "faultInjected" && line.kind === "faults" && line.isolated === true)).toBe(true);
    const crash = lines.find((line) => line.event === "faultInjected" && line.kind === "crash")!;
    expect(crash).toBeDefined();
    const wins = lines.filter((line) => line.event === "electionWon");
    expect(wins.length).toBeGreaterThanOrEqual(2);
    const lastWin = wins.at(-1)!;
    expect(Number(lastWin.term)).toBeGreaterThan(Number(crash.term));
    expect(lines.some((line) => line.event === "leaderChanged" && line.leader === lastWin.replica && line.term === lastWin.term && line.replica !== lastWin.replica)).toBe(true);
  });

  it("prints none of them at the default level", async () => {
    const output = await withWrangler({}, reshape);
    expect(output).toContain("Ready on"); // the output was captured
    expect(logLines(output).filter((line) => line.level === "info")).toEqual([]);
  });
});
