/**
 * The router's own request metrics: requests by method, route pattern and status, and a latency
 * histogram by method and route, kept in memory by the isolate that served them (each Worker
 * isolate counts its own; Prometheus sums them). Routes are Hono's patterns, so label values stay few.
 */
import type { MiddlewareHandler } from "hono";
import type { HistogramSeries, MetricFamily } from "./exposition.ts";

/** Upper bounds of the latency buckets, in seconds. */
export const latencyBucketsSeconds: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Distinct (method, route, status) series kept at most; later ones count under route "other". */
const seriesMax = 1_000;

interface Latency {
  bucketCounts: number[];
  sum: number;
  count: number;
}

/** Counts requests and their latency. */
export class RequestMetrics {
  private readonly requests = new Map<string, number>();
  private readonly latencies = new Map<string, Latency>();

  /** Records one request to `route` answered with `status` after `seconds`. */
  record(method: string, route: string, status: number, seconds: number): void {
    const known = this.requests.size < seriesMax || this.requests.has(`${method} ${route} ${status}`);
    const routeLabel = known ? route : "other";
    const requestKey = `${method} ${routeLabel} ${status}`;
    this.requests.set(requestKey, (this.requests.get(requestKey) ?? 0) + 1);
    const latencyKey = `${method} ${routeLabel}`;
    const latency = this.latencies.get(latencyKey) ?? { bucketCounts: latencyBucketsSeconds.map(() => 0), sum: 0, count: 0 };
    const bucket = latencyBucketsSeconds.findIndex((bound) => seconds <= bound);
    if (bucket >= 0) latency.bucketCounts[bucket]! += 1;
    latency.sum += seconds;
    latency.count += 1;
    this.latencies.set(latencyKey, latency);
  }

  /** Hono middleware that records every request it wraps (the route is the matched pattern). */
  middleware(): MiddlewareHandler {
    return async (context, next) => {
      const began = performance.now();
      await next();
      const pattern = context.req.routePath;
      // The pattern without its parameters' regular expressions: /v1/kv/:key{.*} is /v1/kv/:key.
      const route = pattern === "/*" || pattern === "*" || pattern === "" ? "unmatched" : pattern.replace(/\{[^}]*\}/g, "");
      this.record(context.req.method, route, context.res.status, (performance.now() - began) / 1000);
    };
  }

  /** The request counter and latency histogram families. */
  families(): MetricFamily[] {
    const samples = [...this.requests].map(([key, value]) => {
      const [method, route, status] = key.split(" ") as [string, string, string];
      return { labels: { method, route, status }, value };
    });
    const series: HistogramSeries[] = [...this.latencies].map(([key, latency]) => {
      const [method, route] = key.split(" ") as [string, string];
      return { labels: { method, route }, bucketCounts: latency.bucketCounts, sum: latency.sum, count: latency.count };
    });
    return [
      { name: "edgeraft_http_requests_total", help: "HTTP requests answered by this router isolate, by method, route pattern and status.", type: "counter", samples },
      { name: "edgeraft_http_request_duration_seconds", help: "Time to answer HTTP requests in this router isolate, by method and route pattern.", type: "histogram", bounds: latencyBucketsSeconds, series },
    ];
  }
}
