/**
 * A closed-loop load generator for `npm run bench:deno`: `concurrency` clients each run one
 * operation after another for a fixed time, from one Node process with keep-alive fetch, the same
 * for edgeraft and etcd. Operations that fail count as errors, not throughput.
 */

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
