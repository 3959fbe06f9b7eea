/**
 * A closed-loop load generator, shared by the bench-only Worker route (load inside the runtime)
 * and by `npm run bench` (load over HTTP), so both sides count and time operations the same way.
 * Runtime-agnostic: only Web-standard APIs. Every run is bounded by an operation count and a time.
 */

/** Most concurrent workers of one run. */
export const benchConcurrencyMax = 256;
/** Most operations of one run. */
export const benchOperationsMax = 200_000;
/** Longest run, in milliseconds. */
export const benchDurationMsMax = 120_000;
/** Most distinct keys per prefix a run may spread its operations over. */
export const benchKeysPerPrefixMax = 100_000;
/** Largest value a benchmark write carries, in bytes. */
export const benchValueBytesMax = 64 * 1024;

/** How much load: `concurrency` workers, each issuing its next operation when the previous one answered. */
export interface LoadPlan {
  concurrency: number;
  /** The run stops once this many operations were issued... */
  operationsMax: number;
  /** ...or once this many milliseconds passed, whichever comes first. */
  durationMsMax: number;
}

/** What a run measured. Latencies are of successful operations only, in milliseconds. */
export interface LoadOutcome {
  completed: number;
  failed: number;
  /** From the first operation issued to the last one answered. */
  elapsedMs: number;
  latenciesMs: number[];
  /** Failures counted by error code. */
  errors: Record<string, number>;
}

/** One operation: resolves undefined on success or an error code on failure; may also throw. */
export type LoadOperation = (sequence: number) => Promise<string | undefined>;

/** Whether `plan` is within the named bounds (the caller answers 400 otherwise). */
export function loadPlanProblem(plan: LoadPlan): string | undefined {
  if (!Number.isSafeInteger(plan.concurrency) || plan.concurrency < 1 || plan.concurrency > benchConcurrencyMax) return `concurrency is 1..${benchConcurrencyMax}`;
  if (!Number.isSafeInteger(plan.operationsMax) || plan.operationsMax < 1 || plan.operationsMax > benchOperationsMax) return `operationsMax is 1..${benchOperationsMax}`;
  if (!Number.isFinite(plan.durationMsMax) || plan.durationMsMax < 1 || plan.durationMsMax > benchDurationMsMax) return `durationMsMax is 1..${benchDurationMsMax}`;
  return undefined;
}

/** Runs `operation` under `plan` and measures it; `clock` is in milliseconds. */
export async function runClosedLoop(plan: LoadPlan, operation: LoadOperation, clock: () => number = () => performance.now()): Promise<LoadOutcome> {
  const problem = loadPlanProblem(plan);
  if (problem !== undefined) throw new Error(`bad load plan: ${problem}`);
  const outcome: LoadOutcome = { completed: 0, failed: 0, elapsedMs: 0, latenciesMs: [], errors: {} };
  const startMs = clock();
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < plan.operationsMax && clock() - startMs < plan.durationMsMax) {
      const sequence = issued++;
      const beganMs = clock();
      let error: string | undefined;
      try {
        error = await operation(sequence);
      } catch (thrown) {
        error = thrown instanceof Error ? thrown.name : "thrown";
      }
      if (error === undefined) {
        outcome.completed++;
        outcome.latenciesMs.push(Math.round((clock() - beganMs) * 100) / 100);
      } else {
        outcome.failed++;
        outcome.errors[error] = (outcome.errors[error] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
  outcome.elapsedMs = clock() - startMs;
  return outcome;
}

/** The key of operation `sequence`: round-robin over the prefixes, then over the keys of each. */
export function benchKeyOf(prefixes: readonly string[], keysPerPrefix: number, sequence: number): string {
  const prefix = prefixes[sequence % prefixes.length]!;
  const key = Math.floor(sequence / prefixes.length) % keysPerPrefix;
  return `${prefix}k${String(key).padStart(5, "0")}`;
}

/** A value of `bytes` bytes, the same every time (content does not matter, size does). */
export function benchValueOf(bytes: number): Uint8Array {
  const value = new Uint8Array(bytes);
  for (let position = 0; position < bytes; position++) value[position] = 97 + (position % 26);
  return value;
}
