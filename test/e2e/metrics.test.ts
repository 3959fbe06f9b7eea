/**
 * Proves GET /metrics through a real wrangler dev: the text passes the strict grammar check and
 * the official Prometheus Python client's parser; every replica of the metadata group and of a
 * group the test created reports up, role, term, commit and applied index, log entries and Raft
 * traffic counters; the group has one leader; writes move its commit index and are counted by
 * route with a latency histogram.
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
    const after = await scrape();

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
});
