/**
 * Proves GET /metrics over the in-memory cluster: admin only; Prometheus text that both a strict
 * grammar check and the official Python client's parser accept; per-replica gauges from the cluster's health
 * view; requests counted by route pattern and status with a latency histogram; and label values
 * with quotes, backslashes and newlines escaped so they parse back exactly.
 */
import { describe, expect, it } from "vitest";
import { renderExposition } from "../../src/router/metrics/exposition.ts";
import { parsePrometheusText } from "../support/prometheus-parser.ts";
import { expositionProblems } from "../support/prometheus-text.ts";
import { acmeToken, setup } from "./harness.ts";

describe("GET /metrics", () => {
  it("is for the admin only", async () => {
    const { send } = setup();
    expect((await send("GET", "/metrics", { token: null })).status).toBe(401);
    expect((await send("GET", "/metrics", { token: acmeToken })).status).toBe(403);
    expect((await send("POST", "/metrics")).status).toBe(405);
  });

  it("answers valid text format with replica gauges and request counts by route", async () => {
    const { send } = setup();
    for (let index = 0; index < 3; index++) expect((await send("PUT", `/v1/kv/key-${index}`, { body: "v" })).status).toBe(200);
    expect((await send("GET", "/v1/kv/absent")).status).toBe(404);
    await send("GET", "/no/such/route");
    const response = await send("GET", "/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await response.text();
    expect(expositionProblems(text)).toEqual([]);
    const families = new Map(parsePrometheusText(text).map((family) => [family.name, family]));
    const requests = families.get("edgeraft_http_requests")!;
    expect(requests.type).toBe("counter");
    const countOf = (method: string, status: string) =>
      requests.samples.filter((sample) => sample.labels.method === method && sample.labels.status === status && sample.labels.route === "/v1/kv/:key").map((sample) => sample.value);
    expect(countOf("PUT", "200")).toEqual([3]);
    expect(countOf("GET", "404")).toEqual([1]);
    expect(requests.samples.some((sample) => sample.labels.route === "unmatched" && sample.labels.status === "404")).toBe(true);
    const latency = families.get("edgeraft_http_request_duration_seconds")!;
    expect(latency.type).toBe("histogram");
    const putSeries = latency.samples.filter((sample) => sample.labels.method === "PUT");
    expect(putSeries.find((sample) => sample.name.endsWith("_count"))?.value).toBe(3);
    expect(putSeries.find((sample) => sample.labels.le === "+Inf")?.value).toBe(3);
    const up = families.get("edgeraft_replica_up")!;
    expect(up.samples.length).toBeGreaterThan(0);
    expect(up.samples.every((sample) => sample.labels.group !== undefined && sample.labels.replica !== undefined && sample.value === 1)).toBe(true);
    const roles = families.get("edgeraft_replica_role")!.samples.filter((sample) => sample.value === 1).map((sample) => sample.labels.role);
    expect(roles).toContain("leader");
  });

  it("escapes label values so they parse back exactly", () => {
    const awkward = 'a "quoted" back\\slash and a\nnewline';
    const text = renderExposition([{ name: "edgeraft_test_total", help: "help with a \\ and\na newline", type: "counter", samples: [{ labels: { value: awkward }, value: 2 }] }]);
    expect(expositionProblems(text)).toEqual([]);
    const [family] = parsePrometheusText(text);
    expect(family?.samples[0]?.labels.value).toBe(awkward);
    expect(family?.samples[0]?.value).toBe(2);
    expect(family?.help).toBe("help with a \\ and\na newline");
  });

  it("the strict check catches what it must", () => {
    expect(expositionProblems("garbage line here\n").length).toBeGreaterThan(0);
    expect(() => parsePrometheusText("garbage line here\n")).toThrow(/refused/);
    expect(expositionProblems("# HELP c x\n# TYPE c counter\nc 1\n")).toContain("line 2: # TYPE c counter: a counter's name must end in _total");
    const badHistogram = '# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n';
    expect(expositionProblems(badHistogram)).toContain("histogram h: buckets are not cumulative");
    // Two histogram families may share a label set; each is checked on its own.
    const histogramOf = (name: string, low: number, high: number) => `# HELP ${name} x\n# TYPE ${name} histogram\n${name}_bucket{g="a",le="1"} ${low}\n${name}_bucket{g="a",le="+Inf"} ${high}\n${name}_sum{g="a"} 1\n${name}_count{g="a"} ${high}\n`;
    expect(expositionProblems(histogramOf("first", 5, 9) + histogramOf("second", 1, 2))).toEqual([]);
  });
});
