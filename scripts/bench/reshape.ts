/**
 * The reshaping scenario (issue 8): a 3-replica group is loaded with many keys, a steady HTTP write
 * load runs on them, and `POST /v1/groups/{name}/split` (at the median) is sent while it goes on.
 * Measured: how long the split took, the write p99 of the keys that moved during the split against
 * their p99 before it, and how many requests the clients saw fail (the bar: none).
 */
import { benchKeyOf, benchValueOf } from "../../src/hosts/cloudflare/bench-load.ts";
import { createScenarioGroups, runInRuntime, type Endpoint } from "./api.ts";
import { percentile, round } from "./results.ts";
import type { Scenario } from "./scenarios.ts";

/** How the reshaping scenario is sized. */
export interface ReshapePlan {
  /** Keys loaded into the group before the workload starts. */
  keys: number;
  valueBytes: number;
  /** Concurrent HTTP writers of the steady workload. */
  clients: number;
  /** How long the workload runs before the split is sent, and after it answered. */
  beforeMs: number;
  afterMs: number;
}

/** What the scenario measured; latencies in milliseconds. */
export interface ReshapeResult {
  keys: number;
  clients: number;
  /** From sending the split to its answer; null when it failed. */
  splitMs: number | null;
  splitStatus: number;
  /** The new group and the ranges it took. */
  newGroup: string;
  movedRanges: { start: string; end?: string }[];
  /** Writes of the keys that moved: before the split, and overlapping it. */
  movedBefore: { count: number; p50Ms: number; p99Ms: number };
  movedDuring: { count: number; p50Ms: number; p99Ms: number };
  /** Every write overlapping the split, moved keys or not. */
  allDuring: { count: number; p50Ms: number; p99Ms: number };
  /** p99 of moved keys during the split over their p99 before it; null when either side is empty. */
  p99Ratio: number | null;
  /** Requests of the workload, and those that failed (any answer but 200, or no answer). */
  requests: number;
  failed: number;
  errors: Record<string, number>;
}

/** The group the scenario loads and splits (its own prefix, so the other scenarios' groups are untouched). */
export const reshapeScenario: Pick<Scenario, "groups"> = { groups: [{ name: "bench-reshape", prefix: "bench-reshape/", replicas: 3 }] };

/** One timed request of the workload (error undefined: it answered 200). */
export interface Sample {
  key: string;
  beganMs: number;
  endedMs: number;
  error: string | undefined;
}

/** Runs the scenario against a runtime started with automatic splits off. */
export async function runReshape(endpoint: Endpoint, plan: ReshapePlan, log: (line: string) => void): Promise<ReshapeResult> {
  const group = reshapeScenario.groups[0]!;
  const prefixes = [group.prefix];
  await createScenarioGroups(endpoint, reshapeScenario);
  const loadBeganMs = performance.now();
  const loaded = await runInRuntime(endpoint, {
    operation: "write", prefixes, keysPerPrefix: plan.keys, valueBytes: plan.valueBytes, concurrency: 16, operationsMax: plan.keys, durationMsMax: 120_000,
  });
  if (loaded.completed !== plan.keys) throw new Error(`loading ${plan.keys} keys wrote ${loaded.completed} (${JSON.stringify(loaded.errors)})`);
  log(`  reshape: loaded ${plan.keys} keys into ${group.name} in ${Math.round(performance.now() - loadBeganMs)} ms`);

  const value = benchValueOf(plan.valueBytes);
  const failureBodies: string[] = [];
  const write = async (key: string): Promise<string | undefined> => {
    const response = await fetch(`${endpoint.url}/v1/kv/${key}`, { method: "PUT", headers: { authorization: `Bearer ${endpoint.token}` }, body: value, signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    if (response.status === 200) return undefined;
    if (failureBodies.length < 5) failureBodies.push(`${key}: ${response.status} ${text.slice(0, 300)}`);
    return `http${response.status}`;
  };
  const samples: Sample[] = [];
  let running = true;
  let sequence = 0;
  const client = async (): Promise<void> => {
    while (running) {
      // Spread over the keys (a stride coprime to their count), so both halves are written all the time.
      const keySequence = (sequence++ * 7919) % plan.keys;
      const key = benchKeyOf(prefixes, plan.keys, keySequence);
      const beganMs = performance.now();
      let error: string | undefined;
      try {
        error = await write(key);
      } catch (thrown) {
        error = thrown instanceof Error ? thrown.name : "thrown";
      }
      samples.push({ key, beganMs, endedMs: performance.now(), error });
    }
  };
  const clients = Promise.all(Array.from({ length: plan.clients }, client));
  await sleep(plan.beforeMs);
  const splitBeganMs = performance.now();
  const split = await fetch(`${endpoint.url}/v1/groups/${group.name}/split`, {
    method: "POST",
    headers: { authorization: `Bearer ${endpoint.token}`, "content-type": "application/json" },
    body: "{}",
    signal: AbortSignal.timeout(300_000),
  });
  const splitEndedMs = performance.now();
  const view = (await split.json().catch(() => ({}))) as { name?: string; ranges?: { start: string; end?: string }[] };
  await sleep(plan.afterMs);
  running = false;
  await clients;

  for (const body of failureBodies) log(`  reshape: a failed write: ${body}`);
  const movedRanges = split.status === 201 ? (view.ranges ?? []) : [];
  return summarizeReshape({ plan, samples, splitBeganMs, splitEndedMs, splitStatus: split.status, newGroup: view.name ?? "", movedRanges });
}

/** What one run of the scenario recorded, before it is summarized. */
export interface ReshapeRecording {
  plan: Pick<ReshapePlan, "keys" | "clients">;
  samples: readonly Sample[];
  splitBeganMs: number;
  splitEndedMs: number;
  splitStatus: number;
  newGroup: string;
  /** The ranges the new group took (empty when the split failed). */
  movedRanges: { start: string; end?: string }[];
}

/**
 * Summarizes a recording: a write counts as "before" when it ended before the split was sent,
 * as "during" when it overlapped the split at all; "moved" keys are those in the new group's ranges.
 */
export function summarizeReshape(recording: ReshapeRecording): ReshapeResult {
  const { samples, splitBeganMs, splitEndedMs, movedRanges } = recording;
  const moved = (key: string) => movedRanges.some((range) => key >= range.start && (range.end === undefined || key < range.end));
  const ok = samples.filter((sample) => sample.error === undefined);
  const before = ok.filter((sample) => sample.endedMs <= splitBeganMs);
  const during = ok.filter((sample) => sample.endedMs > splitBeganMs && sample.beganMs < splitEndedMs);
  const movedBefore = summary(before.filter((sample) => moved(sample.key)));
  const movedDuring = summary(during.filter((sample) => moved(sample.key)));
  const errors: Record<string, number> = {};
  for (const sample of samples) if (sample.error !== undefined) errors[sample.error] = (errors[sample.error] ?? 0) + 1;
  const succeeded = recording.splitStatus === 201;
  return {
    keys: recording.plan.keys,
    clients: recording.plan.clients,
    splitMs: succeeded ? round(splitEndedMs - splitBeganMs) : null,
    splitStatus: recording.splitStatus,
    newGroup: recording.newGroup,
    movedRanges,
    movedBefore,
    movedDuring,
    allDuring: summary(during),
    p99Ratio: movedBefore.count > 0 && movedDuring.count > 0 && movedBefore.p99Ms > 0 ? round(movedDuring.p99Ms / movedBefore.p99Ms) : null,
    requests: samples.length,
    failed: samples.length - ok.length,
    errors,
  };
}

function summary(samples: readonly Sample[]): { count: number; p50Ms: number; p99Ms: number } {
  const sorted = samples.map((sample) => sample.endedMs - sample.beganMs).sort((left, right) => left - right);
  return { count: sorted.length, p50Ms: round(percentile(sorted, 0.5)), p99Ms: round(percentile(sorted, 0.99)) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
