/**
 * A closed-loop load generator for `npm run bench:deno`: `concurrency` clients each run one
 * operation after another for a fixed time, from one Node process over keep-alive node:http
 * connections (httpCall), the same for edgeraft and etcd. Operations that fail count as errors,
 * not throughput.
 *
 * Not fetch: Node's fetch (undici) spent about 440 us of CPU per request against a bare Deno.serve
 * on this machine, and topped out near 2,700 requests/s on its one thread, which is about what
 * both systems "did" at 64 clients; node:http spent about 83 us (12,000 requests/s). Measured
 * 2026-12-01 with 64 keep-alive clients sending 100-byte PUTs.
 */
import { Agent, request } from "node:http";

/** What an HTTP call answered. */
export interface HttpAnswer {
  status: number;
  body: Buffer;
}

/** Every benchmark call shares these keep-alive connections (at most one per client in flight, per host). */
const agent = new Agent({ keepAlive: true });

/** A call with no answer (or no byte of it) in this long fails: a stalled server ends as errors, not a hung cell. */
const callTimeoutMs = 30_000;

/** One HTTP request over a kept-alive connection; rejects when the connection fails. */
export function httpCall(url: string, options: { method?: string; body?: Uint8Array | string; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const body = options.body ?? "";
    const headers = { ...options.headers, "content-length": String(Buffer.byteLength(body)) };
    const outgoing = request(url, { method: options.method ?? "GET", agent, headers }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("end", () => resolve({ status: incoming.statusCode ?? 0, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }));
      incoming.on("error", reject);
    });
    outgoing.on("error", reject);
    outgoing.setTimeout(callTimeoutMs, () => outgoing.destroy(new Error(`no answer from ${url} in ${callTimeoutMs} ms`)));
    outgoing.end(body);
  });
}

/** One timed cell. */
export interface LoadCell {
  concurrency: number;
  operations: number;
  errors: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `operation(client, n)` in `concurrency` loops for `durationMs` after `warmupMs` that is not counted. */
export async function runLoad(options: {
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  operation(client: number, n: number): Promise<boolean>;
}): Promise<LoadCell> {
  const latencies: number[] = [];
  let errors = 0;
  const startMs = performance.now();
  const countFromMs = startMs + options.warmupMs;
  const stopMs = countFromMs + options.durationMs;
  const client = async (id: number) => {
    for (let n = 0; performance.now() < stopMs; n++) {
      const began = performance.now();
      const ok = await options.operation(id, n).catch(() => false);
      const ended = performance.now();
      if (began < countFromMs || ended > stopMs) continue;
      if (ok) latencies.push(ended - began);
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, id) => client(id)));
  latencies.sort((a, b) => a - b);
  const at = (fraction: number) => (latencies.length === 0 ? 0 : latencies[Math.min(latencies.length - 1, Math.floor(fraction * latencies.length))]!);
  return {
    concurrency: options.concurrency,
    operations: latencies.length,
    errors,
    perSecond: latencies.length / (options.durationMs / 1000),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

/** A value of `bytes` bytes, different per client and step. */
export function valueOf(bytes: number, client: number, n: number): Uint8Array {
  const value = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) value[i] = 97 + ((client * 31 + n + i) % 26);
  return value;
}

/** The median of `values` (the mean of the middle two when their count is even). */
export function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
