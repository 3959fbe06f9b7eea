/**
 * The chaos campaign's report: per scenario, the operations done (ok, fail, info), every answer
 * the server gave, the faults injected by kind, acknowledged writes lost, keys with a value no
 * write explains, the linearizability verdict, and answers that were not ok although no fault was
 * in force (a healthy cluster should answer everything).
 */
import { describeSummary } from "../../src/checker/index.ts";
import type { ScenarioResult } from "./scenario.ts";
import type { CompletedOperation } from "./workload.ts";
import { passed } from "./verdict.ts";

/** Answers that are normal for a healthy cluster: a value, an absent key, a lost compare-and-set race. */
const healthyAnswers = new Set(["200", "404 notFound", "412 conditionFailed"]);

/** The report lines of one scenario. */
export function describeScenario(result: ScenarioResult): string[] {
  const { options, verdict } = result;
  const lines = [`== scenario ${options.name}: ${options.groups.length} group(s), ${options.clients} clients, ${options.workloadMs / 1000} s of workload, seed ${options.seed}`];
  lines.push(`operations: ${tally(result.completed)}`);
  for (const group of options.groups) {
    const mine = result.completed.filter((operation) => operation.group === group.group);
    const role = group.group === options.target ? "fault target" : "no group faults";
    lines.push(`  group ${group.group} (${role}): ${tally(mine)}; ${latency(mine)}`);
  }
  lines.push(`answers: ${[...result.answers].sort((left, right) => right[1] - left[1]).map(([answer, count]) => `${answer} x${count}`).join(", ")}`);
  const faults = [...result.nemesis.injected].map(([kind, count]) => `${kind} x${count}`).join(", ");
  lines.push(`faults injected: ${faults === "" ? "none" : faults}`);
  if (result.restartSeconds.length > 0) lines.push(`process restarts took ${result.restartSeconds.map((seconds) => `${seconds.toFixed(1)} s`).join(", ")} (kill to first answer)`);
  if (result.reshape !== undefined) {
    const done = [...result.reshape.done].map(([operation, count]) => `${operation} x${count}`).join(", ");
    lines.push(`reshaping: ${result.reshape.cycles} split/move/merge cycle(s) completed; steps done: ${done === "" ? "none" : done}`);
    lines.push(`  reshaping answers: ${[...result.reshape.answers].sort((left, right) => right[1] - left[1]).map(([answer, count]) => `${answer} x${count}`).join(", ")}`);
    for (const problem of result.reshape.problems) lines.push(`  reshaping problem: ${problem}`);
  }
  lines.push(`acknowledged writes lost: ${verdict.lostWrites}`);
  lines.push(`keys whose final value no invoked write explains: ${verdict.foreignValues}; keys unreadable at the end: ${verdict.unreadableKeys}`);
  lines.push(`linearizable: ${verdict.check.linearizable ? "yes" : "NO"} (${describeSummary(verdict.check)})`);
  for (const note of verdict.notes) lines.push(`  ${note}`);
  for (const line of verdict.failureLines) lines.push(`  ${line}`);
  lines.push(...describeHealthyTime(result));
  lines.push(`500 internal errors: ${internalErrors(result)}`);
  lines.push(`history: ${result.historyPath}`);
  lines.push(`wall time: ${result.wallSeconds.toFixed(1)} s; ${scenarioPassed(result) ? "PASS" : "FAIL"}`);
  return lines;
}

/** How many answers were 500 (a bug by the API's own definition, fault or no fault). */
export function internalErrors(result: ScenarioResult): number {
  return [...result.answers].filter(([answer]) => answer.startsWith("500")).reduce((sum, [, count]) => sum + count, 0);
}

/**
 * Whether the scenario passed: the history's verdict holds and the server never answered 500; with
 * a reshaper, also at least one split/move/merge cycle completed and no step was refused or stuck.
 */
export function scenarioPassed(result: ScenarioResult): boolean {
  const reshaped = result.reshape === undefined || (result.reshape.cycles > 0 && result.reshape.problems.length === 0);
  return passed(result.verdict) && internalErrors(result) === 0 && reshaped;
}

/** `N ops (ok a, fail b, info c)`. */
function tally(operations: readonly CompletedOperation[]): string {
  const count = (outcome: string): number => operations.filter((operation) => operation.outcome === outcome).length;
  return `${operations.length} (ok ${count("ok")}, fail ${count("fail")}, info ${count("info")})`;
}

/** Median and 99th percentile latency of the operations that ended ok. */
function latency(operations: readonly CompletedOperation[]): string {
  const sorted = operations.filter((operation) => operation.outcome === "ok").map((operation) => operation.completeMs - operation.invokeMs).sort((left, right) => left - right);
  if (sorted.length === 0) return "no ok operations";
  const at = (fraction: number): number => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
  return `ok latency p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`;
}

/**
 * Answers other than ok while no fault touched the operation's group: for the target group, outside
 * every fault window; for the other groups, outside the process restarts (the only fault they share).
 */
export function unhealthyAnswers(result: ScenarioResult): CompletedOperation[] {
  const windows = result.nemesis.windows;
  return result.completed.filter((operation) => {
    if (healthyAnswers.has(operation.answer)) return false;
    const relevant = operation.group === result.options.target ? windows : windows.filter((window) => window.kind === "restart");
    return !relevant.some((window) => operation.invokeMs < window.endMs && operation.completeMs > window.startMs);
  });
}

function describeHealthyTime(result: ScenarioResult): string[] {
  const unhealthy = unhealthyAnswers(result);
  if (unhealthy.length === 0) return ["answers other than 200/404/412 while no fault touched the group: 0"];
  const lines = [`answers other than 200/404/412 while no fault touched the group: ${unhealthy.length}`];
  for (const operation of unhealthy.slice(0, 10)) {
    lines.push(`  ${operation.f} in ${operation.group} at ${(operation.invokeMs / 1000).toFixed(1)}..${(operation.completeMs / 1000).toFixed(1)} s: ${operation.answer}`);
  }
  return lines;
}
