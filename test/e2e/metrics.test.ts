/**
 * Proves GET /metrics through a real wrangler dev: the text passes the strict grammar check and
 * the official Prometheus Python client's parser; every replica of the metadata group and of a
 * group the test created reports up, role, term, commit and applied index, log entries and Raft
 * traffic counters; the group has one leader; writes move its commit index and are counted by
 * route with a latency histogram. The numbers come from the replicas' reports to the stats
 * aggregate (the scrape asks no replica): commands applied and the commit and apply latency
 * histograms grow with writes, a crashed leader, then cut off, makes the other replicas count a leader change,
 * and scraping a quiesced group many times leaves its term, alarms and Raft traffic unchanged.
 */
import { describe, expect, it } from "vitest";
import { EdgeraftClient } from "../../src/client/index.ts";
import { parsePrometheusText, type ParsedFamily } from "../support/prometheus-parser.ts";
import { expositionProblems } from "../support/prometheus-text.ts";
import { baseUrl } from "./client.ts";
import { e2eAdminToken } from "./wrangler.ts";

async function scrape(): Promise<Map<string, ParsedFamily>> {
  const response = await fetch(`${baseUrl()}/metrics`, { headers: { authorization: `Bearer ${e2eAdminToken}` } });
  expect(response.status).toBe(200);
  const text = await response.text();
  expect(expositionProblems(text)).toEqual([]);
  return new Map(parsePrometheusText(text).map((family) => [family.name, family]));
}

const valueOf = (families: Map<string, ParsedFamily>, family: string, labels: Record<string, string>) =>
  families.get(family)?.samples.find((sample) => Object.entries(labels).every(([name, value]) => sample.labels[name] === value))?.value;

describe("GET /metrics through wrangler dev", () => {
  it("reports every replica's Raft state and traffic, and the router's requests", async () => {
    const client = new EdgeraftClient({ url: baseUrl(), token: e2eAdminToken });
    await client.groups.create({ name: "metrics-group", prefix: "metrics/", replicas: 3 });
    expect((await fetch(`${baseUrl()}/metrics`)).status).toBe(401);
    await client.put("metrics/0", "first");
    const before = await scrape();
    for (let index = 1; index <= 10; index++) await client.put(`metrics/${index}`, `value ${index}`);
    // Replicas report progress on a coarse clock (at most every 2 s): wait for the leader's report of the writes.
    let after = await scrape();
    await expect.poll(async () => {
      after = await scrape();
      const leaderNow = after.get("edgeraft_replica_role")?.samples.find((sample) => sample.labels.group === "metrics-group" && sample.labels.role === "leader" && sample.value === 1)?.labels.replica;
      return leaderNow === undefined ? 0 : (valueOf(after, "edgeraft_replica_commit_index", { group: "metrics-group", replica: leaderNow }) ?? 0) - (valueOf(before, "edgeraft_replica_commit_index", { group: "metrics-group", replica: leaderNow }) ?? 0);
    }, { timeout: 15_000, interval: 500 }).toBeGreaterThanOrEqual(10);

    for (const group of ["meta", "metrics-group"]) {
      for (const replica of ["1", "2", "3"]) {
        const labels = { group, replica };
        expect(valueOf(after, "edgeraft_replica_up", labels), `${group}/${replica} up`).toBe(1);
        expect(valueOf(after, "edgeraft_replica_term", labels)).toBeGreaterThan(0);
        expect(valueOf(after, "edgeraft_replica_applied_index", labels)).toBeGreaterThan(0);
        expect(valueOf(after, "edgeraft_replica_log_entries", labels)).toBeGreaterThanOrEqual(0);
        expect(valueOf(after, "edgeraft_replica_raft_messages_sent", labels)).toBeGreaterThanOrEqual(0);
      }
      const leaders = after.get("edgeraft_replica_role")!.samples.filter((sample) => sample.labels.group === group && sample.labels.role === "leader" && sample.value === 1);
      expect(leaders.length, `${group} has one leader`).toBe(1);
      expect(valueOf(after, "edgeraft_group_has_leader", { group })).toBe(1);
    }
    const leader = after.get("edgeraft_replica_role")!.samples.find((sample) => sample.labels.group === "metrics-group" && sample.labels.role === "leader" && sample.value === 1)!.labels.replica!;
    const commitBefore = valueOf(before, "edgeraft_replica_commit_index", { group: "metrics-group", replica: leader })!;
    const commitAfter = valueOf(after, "edgeraft_replica_commit_index", { group: "metrics-group", replica: leader })!;
    expect(commitAfter - commitBefore).toBeGreaterThanOrEqual(10);
    expect(valueOf(after, "edgeraft_replica_raft_messages_sent", { group: "metrics-group", replica: leader })).toBeGreaterThan(0);
    expect(valueOf(after, "edgeraft_replica_lag_entries", { group: "metrics-group", replica: leader })).toBe(0);

    const puts = (families: Map<string, ParsedFamily>) => valueOf(families, "edgeraft_http_requests", { method: "PUT", route: "/v1/kv/:key", status: "200" }) ?? 0;
    expect(puts(after) - puts(before)).toBe(10);
    const latency = after.get("edgeraft_http_request_duration_seconds")!;
    expect(latency.type).toBe("histogram");
    const putLatency = latency.samples.filter((sample) => sample.labels.method === "PUT" && sample.labels.route === "/v1/kv/:key");
    const putsOfAnyStatus = after.get("edgeraft_http_requests")!.samples
      .filter((sample) => sample.labels.method === "PUT" && sample.labels.route === "/v1/kv/:key").reduce((sum, sample) => sum + sample.value, 0);
    expect(putLatency.find((sample) => sample.name.endsWith("_count"))?.value).toBe(putsOfAnyStatus);
    expect(putLatency.find((sample) => sample.name.endsWith("_sum"))?.value).toBeGreaterThan(0);
  });

  it("counts commands applied and commit and apply latency, and a crashed leader's successor as a leader change", async () => {
    const client = new EdgeraftClient({ url: baseUrl(), token: e2eAdminToken });
    await client.groups.create({ name: "metrics-moving", prefix: "moving/", replicas: 3 });
    await client.put("moving/0", "first");
    const leaderOf = (families: Map<string, ParsedFamily>) =>
      families.get("edgeraft_replica_role")?.samples.find((sample) => sample.labels.group === "metrics-moving" && sample.labels.role === "leader" && sample.value === 1)?.labels.replica;
    let before = await scrape();
    await expect.poll(async () => leaderOf((before = await scrape())), { timeout: 15_000, interval: 500 }).toBeDefined();
    const leader = leaderOf(before)!;
    const labels = { group: "metrics-moving", replica: leader };
    const appliedBefore = valueOf(before, "edgeraft_replica_commands_applied", labels) ?? 0;
    const commitsBefore = before.get("edgeraft_replica_commit_latency_seconds")?.samples.find((sample) => sample.name.endsWith("_count") && sample.labels.replica === leader && sample.labels.group === "metrics-moving")?.value ?? 0;
    for (let index = 1; index <= 20; index++) await client.put(`moving/${index}`, `value ${index}`);
    let after = before;
    await expect.poll(async () => (valueOf((after = await scrape()), "edgeraft_replica_commands_applied", labels) ?? 0) - appliedBefore, { timeout: 15_000, interval: 500 }).toBeGreaterThanOrEqual(20);
    for (const family of ["edgeraft_replica_commit_latency_seconds", "edgeraft_replica_apply_latency_seconds"]) {
      const parsed = after.get(family)!;
      expect(parsed.type).toBe("histogram");
      const count = parsed.samples.find((sample) => sample.name.endsWith("_count") && sample.labels.replica === leader && sample.labels.group === "metrics-moving")!.value;
      expect(count - (family.includes("commit") ? commitsBefore : 0), family).toBeGreaterThanOrEqual(20);
      const infinite = parsed.samples.find((sample) => sample.name.endsWith("_bucket") && sample.labels.le === "+Inf" && sample.labels.replica === leader && sample.labels.group === "metrics-moving")!.value;
      expect(infinite).toBe(count);
    }
    expect(valueOf(after, "edgeraft_replica_replicated_bytes", labels)).toBeGreaterThan(20 * "value 10".length);
    expect(valueOf(after, "edgeraft_replica_elections_won", labels)).toBeGreaterThanOrEqual(1);

    const followers = ["1", "2", "3"].filter((replica) => replica !== leader);
    const changes = (families: Map<string, ParsedFamily>) => followers.map((replica) => valueOf(families, "edgeraft_replica_leader_changes", { group: "metrics-moving", replica }) ?? 0);
    const changesBefore = changes(after);
    const faults = (init: RequestInit) => fetch(`${baseUrl()}/v1/faults`, { ...init, headers: { authorization: `Bearer ${e2eAdminToken}`, "content-type": "application/json" } });
    expect((await faults({ method: "POST", body: JSON.stringify({ kind: "crash", group: "metrics-moving", replica: Number(leader) }) })).status).toBe(200);
    // A crashed leader of a quiet group restarts as its leader in the same term (its quiet note),
    // so the crash alone need not change the leader; cutting it off makes the others elect one.
    expect((await faults({ method: "POST", body: JSON.stringify({ kind: "isolate", group: "metrics-moving", replica: Number(leader) }) })).status).toBe(200);
    try {
      await client.put("moving/after-crash", "x");
      await expect.poll(async () => {
        const now = changes(await scrape());
        return now.some((value, index) => value > changesBefore[index]!);
      }, { timeout: 30_000, interval: 500 }).toBe(true);
    } finally {
      expect((await faults({ method: "DELETE" })).status).toBe(200);
    }
  });

  it("scraping a quiesced group does not wake it: its term, alarms and Raft traffic stay the same", async () => {
    const client = new EdgeraftClient({ url: baseUrl(), token: e2eAdminToken });
    await client.groups.create({ name: "metrics-idle", prefix: "idle/", replicas: 3 });
    await client.put("idle/0", "x");
    const idle = { group: "metrics-idle" };
    const snapshotOf = (families: Map<string, ParsedFamily>) => ["1", "2", "3"].map((replica) => ({
      quiesced: valueOf(families, "edgeraft_replica_quiesced", { ...idle, replica }),
      term: valueOf(families, "edgeraft_replica_term", { ...idle, replica }),
      alarms: valueOf(families, "edgeraft_replica_alarms_fired", { ...idle, replica }),
      sent: valueOf(families, "edgeraft_replica_raft_messages_sent", { ...idle, replica }),
    }));
    let quiet = snapshotOf(await scrape());
    await expect.poll(async () => (quiet = snapshotOf(await scrape())).every((replica) => replica.quiesced === 1), { timeout: 30_000, interval: 500 }).toBe(true);
    // The leader's load reporter checks once, quietMs (5 s) after the last write; let that pass.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    quiet = snapshotOf(await scrape());
    expect(quiet.every((replica) => replica.quiesced === 1 && (replica.alarms ?? 0) > 0 && (replica.sent ?? -1) >= 0)).toBe(true);
    // Throw the three objects away: only a request (or a pending alarm) would bring them back, and a
    // restarted replica reports at once (its alarm count starts again from 0). A scrape that asked
    // the replicas would restart them; one that reads the aggregate does not.
    for (const replica of [1, 2, 3]) {
      const crash = await fetch(`${baseUrl()}/v1/faults`, { method: "POST", headers: { authorization: `Bearer ${e2eAdminToken}`, "content-type": "application/json" }, body: JSON.stringify({ kind: "crash", group: "metrics-idle", replica }) });
      expect(crash.status).toBe(200);
    }
    for (let scrapeIndex = 0; scrapeIndex < 10; scrapeIndex++) await scrape();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(snapshotOf(await scrape())).toEqual(quiet);
    // The same replicas do come back and report when the group is used again (the check can see a restart).
    await client.put("idle/1", "y");
    await expect.poll(async () => snapshotOf(await scrape()).some((replica, index) => replica.alarms! < quiet[index]!.alarms! || replica.term !== quiet[index]!.term), { timeout: 30_000, interval: 500 }).toBe(true);
  });
});
