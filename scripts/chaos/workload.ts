/**
 * The chaos campaign's clients: each loops over a small set of keys doing reads, blind writes and
 * compare-and-sets (read the value and its ETag, then PUT with If-Match) with values no other write
 * uses, and records every call in the checker's history format. The outcome mapping is the sound
 * one: 200 is ok, a 404 read is ok with null, a 412 compare-and-set is fail, a write whose
 * connection was refused is fail (it never reached the server), and everything else is info
 * (it may or may not have happened; for reads the checker then ignores it).
 */
import type { HistoryRecorder } from "../../src/checker/index.ts";
import type { Rng } from "../../src/shared/rng.ts";
import { labelOf, send, type HttpOutcome } from "./http.ts";
import type { ChaosServer } from "./server.ts";

/** The keys of one group, and how to address them. */
export interface KeySet {
  group: string;
  keys: string[];
}

/** What the clients share. */
export interface WorkloadContext {
  server: ChaosServer;
  history: HistoryRecorder;
  /** Milliseconds since the scenario started; the history's clock. */
  clock(): number;
  /** How many times each answer was seen (`200`, `503 outcomeUnknown`, `timeout`, ...). */
  answers: Map<string, number>;
  /** Completed operations with their interval and outcome, for the per-group and quiet-time tallies. */
  completed: CompletedOperation[];
  requestTimeoutMs: number;
}

/** One finished operation as the report sees it. */
export interface CompletedOperation {
  group: string;
  f: "read" | "write" | "cas";
  outcome: "ok" | "fail" | "info";
  answer: string;
  invokeMs: number;
  completeMs: number;
}

/** Share of reads that are followed by a compare-and-set on the value they saw. */
const casShare = 0.3;
/** Share of operations that are blind writes. */
const writeShare = 0.3;
/** First process id of each client is its index; a process that saw `info` gives way to id + this. */
const processStride = 1_000;

/** The path of `key` in the shared keyspace. */
export function keyPath(key: string): string {
  return `/v1/kv/${encodeURIComponent(key)}`;
}

/** Runs client number `client` until `stopAtMs` (scenario clock): the last call may end up to a timeout later. */
export async function runClient(context: WorkloadContext, keySets: readonly KeySet[], client: number, rng: Rng, stopAtMs: number): Promise<void> {
  const state = { process: client, written: 0 };
  while (context.clock() < stopAtMs) {
    await context.server.ready();
    const keySet = keySets[rng.int(keySets.length)]!;
    const key = keySet.keys[rng.int(keySet.keys.length)]!;
    const roll = rng.next();
    if (roll < writeShare) {
      await write(context, state, keySet.group, key, `c${client}-w${state.written++}`);
      continue;
    }
    const seen = await read(context, state, keySet.group, key);
    if (roll < writeShare + casShare && seen !== undefined && context.clock() < stopAtMs) {
      await compareAndSet(context, state, keySet.group, key, seen, `c${client}-w${state.written++}`);
    }
  }
}

interface ClientState {
  process: number;
  written: number;
}

async function write(context: WorkloadContext, state: ClientState, group: string, key: string, value: string): Promise<void> {
  const invokeMs = context.clock();
  context.history.invoke(state.process, "write", key, value, invokeMs);
  const outcome = await send(context.server.url, keyPath(key), { method: "PUT", body: value, timeoutMs: context.requestTimeoutMs });
  const type = isStatus(outcome, 200) ? "ok" : outcome.kind === "refused" ? "fail" : "info";
  finish(context, state, { group, f: "write", outcome: type, answer: labelOf(outcome), invokeMs, completeMs: context.clock() });
}

/** Reads `key`; returns what a compare-and-set needs (the value and its version), or undefined. */
async function read(context: WorkloadContext, state: ClientState, group: string, key: string): Promise<{ value: string | null; version: string } | undefined> {
  const invokeMs = context.clock();
  context.history.invoke(state.process, "read", key, null, invokeMs);
  const outcome = await send(context.server.url, keyPath(key), { timeoutMs: context.requestTimeoutMs });
  const completed = { group, f: "read" as const, answer: labelOf(outcome), invokeMs };
  if (isStatus(outcome, 200) && outcome.kind === "response") {
    finish(context, state, { ...completed, outcome: "ok", completeMs: context.clock() }, outcome.body);
    return outcome.etag === null ? undefined : { value: outcome.body, version: outcome.etag };
  }
  if (isStatus(outcome, 404)) {
    finish(context, state, { ...completed, outcome: "ok", completeMs: context.clock() }, null);
    return { value: null, version: '"0"' }; // If-Match "0" means "only if absent"
  }
  finish(context, state, { ...completed, outcome: "info", completeMs: context.clock() });
  return undefined;
}

async function compareAndSet(
  context: WorkloadContext,
  state: ClientState,
  group: string,
  key: string,
  seen: { value: string | null; version: string },
  value: string,
): Promise<void> {
  const invokeMs = context.clock();
  context.history.invoke(state.process, "cas", key, [seen.value, value], invokeMs);
  const outcome = await send(context.server.url, keyPath(key), { method: "PUT", body: value, headers: { "if-match": seen.version }, timeoutMs: context.requestTimeoutMs });
  const type = isStatus(outcome, 200) ? "ok" : isStatus(outcome, 412) || outcome.kind === "refused" ? "fail" : "info";
  finish(context, state, { group, f: "cas", outcome: type, answer: labelOf(outcome), invokeMs, completeMs: context.clock() });
}

/** Records the completion; a process whose call ended `info` is retired, as in Jepsen (its call may still be pending). */
function finish(context: WorkloadContext, state: ClientState, operation: CompletedOperation, readValue: string | null = null): void {
  context.history.complete(state.process, operation.outcome, operation.f === "read" ? readValue : null, operation.completeMs);
  context.completed.push(operation);
  context.answers.set(operation.answer, (context.answers.get(operation.answer) ?? 0) + 1);
  if (operation.outcome === "info") state.process += processStride;
}

/** Whether `outcome` is a response with `status` (and, for an error, the problem `code` that status must carry). */
function isStatus(outcome: HttpOutcome, status: 200 | 404 | 412): boolean {
  if (outcome.kind !== "response" || outcome.status !== status) return false;
  if (status === 404) return outcome.code === "notFound"; // not routeNotFound: only an absent key reads as null
  if (status === 412) return outcome.code === "conditionFailed";
  return true;
}
