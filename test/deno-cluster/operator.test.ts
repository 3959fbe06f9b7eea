/**
 * Proves the operator surface on the Deno host, which serves the same router app as the Worker:
 * on every node of a real 3-process cluster, GET /metrics (admin) passes the strict grammar check
 * and the Prometheus parser and shows the replicas that node hosts (each replica of a group on
 * exactly one node, with the counters and latency histograms of the runtime), and writes move the
 * group's commands applied; GET /v1/health answers the counts; GET /dashboard, /openapi.json and
 * /docs are served.
 */
import { describe, expect, inject, it } from "vitest";
import { EdgeraftClient } from "../../src/client/index.ts";
import { parsePrometheusText, type ParsedFamily } from "../support/prometheus-parser.ts";
import { expositionProblems } from "../support/prometheus-text.ts";
import { e2eAdminToken } from "../e2e/wrangler.ts";

const urls = () => inject("denoNodeUrls");
const admin = { authorization: `Bearer ${e2eAdminToken}` };

async function scrape(url: string): Promise<Map<string, ParsedFamily>> {
  const response = await fetch(`${url}/metrics`, { headers: admin });
  expect(response.status).toBe(200);
  const text = await response.text();
  expect(expositionProblems(text)).toEqual([]);
  return new Map(parsePrometheusText(text).map((family) => [family.name, family]));
}

/** The group's replicas each node shows, and the sum of a counter over them. */
async function groupView(group: string): Promise<{ replicasByNode: string[][]; applied: number; commitCount: number }> {
  const scrapes = await Promise.all(urls().map(scrape));
  const replicasByNode = scrapes.map((families) => (families.get("edgeraft_replica_up")?.samples ?? []).filter((sample) => sample.labels.group === group && sample.value === 1).map((sample) => sample.labels.replica!));
  const sumOf = (name: string, suffix?: string) => scrapes.flatMap((families) => families.get(name)?.samples ?? [])
    .filter((sample) => sample.labels.group === group && (suffix === undefined || sample.name.endsWith(suffix))).reduce((sum, sample) => sum + sample.value, 0);
  return { replicasByNode, applied: sumOf("edgeraft_replica_commands_applied"), commitCount: sumOf("edgeraft_replica_commit_latency_seconds", "_count") };
}

describe("the operator surface on the Deno host", () => {
  it("serves /metrics on every node with the replicas it hosts, moving with writes", async () => {
    const client = new EdgeraftClient({ url: urls()[0]!, token: e2eAdminToken });
    await client.groups.create({ name: "deno-metrics", prefix: "deno-metrics/", replicas: 3 });
    await client.put("deno-metrics/0", "first");
    expect((await fetch(`${urls()[1]}/metrics`)).status).toBe(401);
    const before = await groupView("deno-metrics");
    expect(before.replicasByNode.flat().sort()).toEqual(["1", "2", "3"]);
    expect(before.replicasByNode.every((replicas) => replicas.length === 1)).toBe(true);
    for (let index = 1; index <= 10; index++) await client.put(`deno-metrics/${index}`, `value ${index}`);
    await expect.poll(async () => (await groupView("deno-metrics")).applied - before.applied, { timeout: 15_000, interval: 300 }).toBeGreaterThanOrEqual(30);
    expect((await groupView("deno-metrics")).commitCount - before.commitCount).toBeGreaterThanOrEqual(10);
    const families = await scrape(urls()[2]!);
    expect(families.get("edgeraft_group_has_leader")?.samples.find((sample) => sample.labels.group === "deno-metrics")?.value).toBe(1);
    expect(families.get("edgeraft_http_requests")?.type).toBe("counter");
  });

  it("serves /v1/health, /dashboard, /openapi.json and /docs on every node", async () => {
    for (const url of urls()) {
      const health = await fetch(`${url}/v1/health`, { headers: admin });
      expect([200, 503]).toContain(health.status);
      const body = (await health.json()) as { counts: { total: number; withLeader: number }; lagSecondsMax: number };
      expect(body.counts.total).toBeGreaterThanOrEqual(2);
      expect(body.counts.withLeader).toBeGreaterThanOrEqual(1);
      expect(body.lagSecondsMax).toBe(30);
      const dashboard = await fetch(`${url}/dashboard`);
      expect(dashboard.status).toBe(200);
      expect(await dashboard.text()).toContain("<title>edgeraft dashboard</title>");
      const document = (await (await fetch(`${url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
      expect(document.openapi).toMatch(/^3\./);
      expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(["/metrics", "/v1/health", "/dashboard"]));
      expect((await fetch(`${url}/docs`)).status).toBe(200);
    }
  });
});
