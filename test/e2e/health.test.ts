/**
 * Proves GET /v1/health against wrangler dev: it counts the groups (in total, with a leader,
 * healthy, lagging, quiesced); a follower cut off from its peers while its group keeps writing
 * falls behind its leader, and the route then answers 503 with a `lagging` reason naming that
 * group and replica (with a lag limit given per request, in entries or in seconds: its leader
 * sees it behind for longer and longer), the CLI prints the reason and exits 1, and its `health`,
 * `groups show` and `top` show the follower's lag in seconds as well as in entries;
 * once healed the follower catches up and the reason goes away.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { EdgeraftClient, type ClusterHealth } from "../../src/client/index.ts";
import { baseUrl, call } from "./client.ts";
import { e2eAdminToken } from "./wrangler.ts";

const admin = () => new EdgeraftClient({ url: baseUrl(), token: e2eAdminToken });
const group = "health-lag";

async function leaderOf(name: string): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const leader = (await admin().groups.get(name)).health.leader;
    if (leader > 0) return leader;
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`group ${name} has no leader`);
}

function cliHealth(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return cli(["health", ...args]);
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [resolve("bin/edgeraft.ts"), ...args], { env: { ...process.env, EDGERAFT_URL: baseUrl(), EDGERAFT_TOKEN: e2eAdminToken }, stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += String(chunk)));
  return new Promise((done) => child.on("close", (code) => done({ code, stdout })));
}

/** The seconds (`1.2s`) in the line of `table` that `row` matches. */
function secondsOfRow(table: string, row: RegExp): number {
  const line = table.split("\n").find((candidate) => row.test(candidate));
  const seconds = /\s(\d+\.\d)s(\s|$)/.exec(line ?? "");
  if (seconds === null) throw new Error(`no seconds in the row ${row} of:\n${table}`);
  return Number(seconds[1]);
}

describe("GET /v1/health", () => {
  it("counts groups and reports a lagging follower with 503 and the reason until it catches up", async () => {
    const client = admin();
    await client.groups.create({ name: group, prefix: `${group}/`, replicas: 3 });
    const leader = await leaderOf(group);
    const before = await client.health({ lagEntries: 1_000_000 });
    expect(before.counts?.total).toBe(before.groups.length);
    expect(before.counts?.withLeader).toBeGreaterThanOrEqual(2);
    expect(before.reasons?.some((reason) => reason.group === group)).toBe(false);

    const follower = leader === 1 ? 2 : 1;
    const isolated = await call("/v1/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ kind: "isolate", group, replica: follower }) });
    expect(isolated.status).toBe(200);
    try {
      for (let index = 0; index < 12; index++) await client.put(`${group}/${index}`, `value ${index}`);
      const response = await call("/v1/health?lagEntries=5");
      const lagging = (await response.json()) as ClusterHealth;
      expect(response.status).toBe(503);
      expect(lagging.healthy).toBe(false);
      expect(lagging.lagEntriesMax).toBe(5);
      const reason = lagging.reasons?.find((candidate) => candidate.group === group && candidate.code === "lagging");
      expect(reason).toMatchObject({ replica: follower, detail: expect.stringContaining(`replica ${follower} is`) });
      expect(reason!.behind!).toBeGreaterThan(5);
      expect(lagging.counts!.lagging).toBeGreaterThanOrEqual(1);
      const printed = await cliHealth(["--lag-entries", "5"]);
      expect(printed.code).toBe(1);
      expect(printed.stdout).toMatch(/\d+ groups: \d+ with a leader, \d+ healthy, [1-9]\d* lagging \(over 5 entries or \d+ s\), \d+ quiesced/);
      expect(printed.stdout).toContain(`lagging: group ${group}: replica ${follower} is`);
      // In seconds: far under the entry limit, the follower is still behind for longer than 1 s.
      // (A leader elected meanwhile, as on a loaded machine, starts its clocks anew: wait for the lag to pass 1 s.)
      let slow = {} as ClusterHealth;
      await expect.poll(async () => {
        const bySeconds = await call("/v1/health?lagEntries=1000000&lagSeconds=1");
        slow = (await bySeconds.json()) as ClusterHealth;
        return bySeconds.status;
      }, { timeout: 20_000, interval: 250 }).toBe(503);
      expect(slow.lagSecondsMax).toBe(1);
      const secondsReason = slow.reasons?.find((candidate) => candidate.group === group && candidate.code === "lagging");
      expect(secondsReason?.replica).toBe(follower);
      expect(secondsReason!.lagSeconds!).toBeGreaterThan(1);
      expect(secondsReason!.detail).toMatch(/behind its leader for \d+\.\d s \(more than 1 s\)/);
      const caughtUpPeer = slow.groups.find((candidate) => candidate.name === group)!.replicas.find((replica) => replica.id !== follower && replica.id !== leader)!;
      expect(caughtUpPeer.lagSeconds).toBe(0);
      // The CLI shows that lag in seconds next to the entries: health and top per group, groups show per replica.
      const bySecondsPrinted = await cliHealth(["--lag-entries", "1000000", "--lag-seconds", "1"]);
      expect(bySecondsPrinted.code).toBe(1);
      expect(bySecondsPrinted.stdout).toMatch(/GROUP\s+LEADER\s+TERM\s+REACHABLE\s+LAG\s+LAG TIME\s+HEALTHY/);
      expect(secondsOfRow(bySecondsPrinted.stdout, new RegExp(`^${group}\\s`))).toBeGreaterThan(1);
      expect(bySecondsPrinted.stdout).toMatch(/lagging \(over 1000000 entries or 1 s\)/);
      const shown = await cli(["groups", "show", group]);
      expect(shown.code).toBe(0);
      expect(secondsOfRow(shown.stdout, new RegExp(`^${follower}\\s`))).toBeGreaterThan(1);
      expect(secondsOfRow(shown.stdout, new RegExp(`^${leader}\\*\\s`))).toBe(0);
      const top = await cli(["top", "--iterations", "1"]);
      expect(top.code).toBe(0);
      expect(secondsOfRow(top.stdout, new RegExp(`^${group}\\s`))).toBeGreaterThan(1);
    } finally {
      await call("/v1/faults", { method: "DELETE" });
    }
    await client.put(`${group}/after`, "heal"); // a new entry carries the follower's catch-up
    await expect.poll(async () => (await client.health({ lagEntries: 5 })).reasons?.filter((reason) => reason.group === group), { timeout: 30_000, interval: 500 }).toEqual([]);
    await client.groups.remove(group);
  });
});
