/**
 * `edgeraft load FILE`: bulk-loads JSON lines ({"key", "value"} or {"key", "valueBase64"}, the
 * format `scan --json` prints) through batches, several in flight, with a progress bar on stderr
 * and a summary. Every line is checked before anything is sent: a bad line is a usage error (2).
 */
import type { BatchOperation, EdgeraftClient } from "../client/index.ts";
import { bytesOfBase64 } from "../client/bytes.ts";
import type { Command } from "./command.ts";
import { integerFlag, parseJsonLines, readInput } from "./input.ts";
import { describeError, exitCodes, say, sayJson, UsageError } from "./output.ts";

/** Operations per batch by default, and the most a batch may carry (the server's batchOperationsMax). */
const batchSizeDefault = 100;
const batchSizeMax = 1000;
/** Batches in flight by default. */
const concurrencyDefault = 4;
/** Failures the summary lists one by one. */
const failuresShownMax = 5;

/** The put a load line asks for, or a UsageError naming the line. */
function operationOf(value: unknown, where: string): BatchOperation {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new UsageError(`${where}: not a JSON object`);
  const line = value as Record<string, unknown>;
  if (typeof line.key !== "string" || line.key === "") throw new UsageError(`${where}: "key" must be a non-empty string`);
  const hasText = typeof line.value === "string";
  const hasBase64 = typeof line.valueBase64 === "string";
  if (hasText === hasBase64) throw new UsageError(`${where}: give exactly one of "value" (text) or "valueBase64"`);
  if (hasText) return { op: "put", key: line.key, value: line.value as string };
  try {
    return { op: "put", key: line.key, value: bytesOfBase64(line.valueBase64 as string) };
  } catch {
    throw new UsageError(`${where}: "valueBase64" is not base64`);
  }
}

/** Counts as the load goes. */
interface Progress {
  readonly total: number;
  written: number;
  failed: number;
  readonly failures: string[];
  readonly beganMs: number;
}

function progressLine(progress: Progress): string {
  const done = progress.written + progress.failed;
  const fraction = progress.total === 0 ? 1 : done / progress.total;
  const filled = Math.round(fraction * 30);
  const seconds = (performance.now() - progress.beganMs) / 1000;
  const rate = seconds > 0 ? Math.round(progress.written / seconds) : 0;
  return `[${"#".repeat(filled)}${"-".repeat(30 - filled)}] ${done}/${progress.total} ${Math.floor(fraction * 100)}%  ${rate} keys/s${progress.failed > 0 ? `  ${progress.failed} failed` : ""}`;
}

/** Rounds of resending the operations a batch answered with 503 unavailable (not applied, so safe to resend). */
const retryRoundsMax = 4;
/** Pause before the first resend round, in milliseconds; it doubles per round. */
const retryDelayMsInitial = 250;

/**
 * Sends one batch and counts its results. Operations answered 503 `unavailable` (the group had no
 * leader at that moment and applied nothing) go into `retry`; other failures are final.
 */
async function sendBatch(client: EdgeraftClient, operations: readonly BatchOperation[], progress: Progress, retry: BatchOperation[] | undefined): Promise<void> {
  try {
    const results = await client.batch(operations);
    results.forEach((result, index) => {
      if (result.status === 200) progress.written++;
      else if (retry !== undefined && result.status === 503 && result.code === "unavailable") retry.push(operations[index]!);
      else {
        progress.failed++;
        if (progress.failures.length < failuresShownMax) progress.failures.push(`${result.key}: ${result.status} ${result.code}: ${result.detail}`);
      }
    });
  } catch (error) {
    progress.failed += operations.length;
    if (progress.failures.length < failuresShownMax) progress.failures.push(`a batch of ${operations.length} from ${operations[0]?.key}: ${describeError(error)}`);
  }
}

/** Sends `operations` in batches of `batchSize`, `concurrency` at a time; returns those to resend. */
async function sendAll(client: EdgeraftClient, operations: readonly BatchOperation[], options: { batchSize: number; concurrency: number; lastRound: boolean }, progress: Progress, shown: () => void): Promise<BatchOperation[]> {
  const retry: BatchOperation[] = [];
  let next = 0;
  const worker = async () => {
    while (next < operations.length) {
      const batch = operations.slice(next, next + options.batchSize);
      next += batch.length;
      await sendBatch(client, batch, progress, options.lastRound ? undefined : retry);
      shown();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return retry;
}

/** `load FILE`. */
export const loadCommand: Command = {
  name: "load",
  usage: "load FILE|- [--batch-size N] [--concurrency N]",
  summary: "bulk-load JSON lines {\"key\",\"value\"|\"valueBase64\"} with a progress bar and a summary",
  flags: { "batch-size": { type: "string" }, concurrency: { type: "string" } },
  async run(context) {
    const source = context.positionals[0];
    if (source === undefined || context.positionals.length > 1) throw new UsageError(`usage: edgeraft ${this.usage}`);
    const batchSize = integerFlag(context.flags["batch-size"], "batch-size", 1) ?? batchSizeDefault;
    if (batchSize > batchSizeMax) throw new UsageError(`--batch-size is at most ${batchSizeMax}`);
    const concurrency = integerFlag(context.flags.concurrency, "concurrency", 1) ?? concurrencyDefault;
    const text = new TextDecoder().decode(await readInput(source));
    const operations = parseJsonLines(text, source).map(({ line, value }) => operationOf(value, `${source}:${line}`));
    const progress: Progress = { total: operations.length, written: 0, failed: 0, failures: [], beganMs: performance.now() };
    const tty = process.stderr.isTTY === true;
    let lastShownMs = 0;
    let lastLine = "";
    const show = (final: boolean) => {
      const now = performance.now();
      if (!final && now - lastShownMs < (tty ? 100 : 1000)) return;
      const line = progressLine(progress);
      if (final && line === lastLine && !tty) return;
      lastShownMs = now;
      lastLine = line;
      process.stderr.write(tty ? `\r${line}${final ? "\n" : ""}` : `${line}\n`);
    };
    let pending: readonly BatchOperation[] = operations;
    let resent = 0;
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, retryDelayMsInitial * 2 ** (round - 1)));
      resent += round > 0 ? pending.length : 0;
      pending = await sendAll(context.client, pending, { batchSize, concurrency, lastRound: round >= retryRoundsMax }, progress, () => show(false));
    }
    show(true);
    const seconds = (performance.now() - progress.beganMs) / 1000;
    const summary = { lines: operations.length, written: progress.written, failed: progress.failed, resent, seconds: Number(seconds.toFixed(3)), keysPerSecond: Math.round(progress.written / Math.max(seconds, 0.001)) };
    if (context.json) sayJson({ ...summary, failures: progress.failures });
    else {
      say(`loaded ${summary.written} of ${summary.lines} keys in ${summary.seconds.toFixed(1)} s (${summary.keysPerSecond} keys/s), ${summary.failed} failed${resent > 0 ? `, ${resent} resent after 503 unavailable` : ""}`);
      for (const failure of progress.failures) say(`  failed: ${failure}`);
    }
    return progress.failed === 0 ? exitCodes.ok : exitCodes.serverOrNetwork;
  },
};
