/**
 * Readable renderings of operations and verdicts, for the check-history script and test messages.
 */
import type { CheckResult, KeyCheckResult } from "./check.ts";
import type { Operation, Value } from "./history.ts";

/** How many operations of a failing prefix describeKeyFailure shows (the last ones). */
export const prefixShownMax = 10;

/** One operation on one line, e.g. `#12 process 3 cas "a" "1"->"2" fail [time 10..14]`. */
export function describeOperation(operation: Operation): string {
  const completion = operation.completeTime === null ? "never" : String(operation.completeTime);
  const time = `[time ${operation.invokeTime}..${completion}]`;
  return `#${operation.index} process ${operation.process} ${describeCall(operation)} ${operation.outcome} ${time}`;
}

function describeCall(operation: Operation): string {
  const key = JSON.stringify(operation.key);
  switch (operation.f) {
    case "read":
      return operation.outcome === "ok" ? `read ${key} -> ${showValue(operation.value)}` : `read ${key}`;
    case "write":
      return `write ${key} ${showValue(operation.value)}`;
    case "delete":
      return `delete ${key}`;
    case "cas":
      return `cas ${key} ${showValue(operation.expected)}->${showValue(operation.value)}`;
  }
}

/** A value as JSON, with null shown as `null` (absent). */
export function showValue(value: Value): string {
  return JSON.stringify(value);
}

/** A one-line summary of a verdict, e.g. `linearizable: 5000 operations over 20 keys (812 search steps)`. */
export function describeSummary(result: CheckResult): string {
  const verdict = result.outcome === "violation" ? "NOT linearizable" : result.outcome;
  const violating = result.keys.filter((key) => key.outcome === "violation").length;
  const detail = result.outcome === "violation" ? `, ${count(violating, "key")} not linearizable` : "";
  const operations = count(result.operationsCount, "operation");
  return `${verdict}: ${operations} over ${count(result.keysCount, "key")}${detail} (${count(result.steps, "search step")})`;
}

/** Several lines explaining why a key is not linearizable: the end of the prefix and what could not follow. */
export function describeKeyFailure(result: KeyCheckResult): string[] {
  const failure = result.failure;
  if (failure === null) return [`key ${JSON.stringify(result.key)}: ${result.outcome}`];
  const lines = [`key ${JSON.stringify(result.key)}: not linearizable (${count(result.operationsCount, "operation")} on the key)`];
  const shown = failure.prefix.slice(-prefixShownMax);
  const hidden = failure.prefix.length - shown.length;
  lines.push(`  longest linearizable prefix: ${count(failure.prefix.length, "operation")}${hidden > 0 ? `, the last ${shown.length} shown` : ""}`);
  for (const operation of shown) lines.push(`    ${describeOperation(operation)}`);
  lines.push(`  value after the prefix: ${showValue(failure.valueAfterPrefix)}`);
  lines.push("  none of these can be ordered next:");
  for (const operation of failure.candidates) lines.push(`    ${describeOperation(operation)}`);
  const blocking = failure.blocking;
  const deadline =
    blocking.outcome === "info" ? "before a later operation observed its value" : `before it completed at time ${blocking.completeTime}`;
  lines.push(`  yet #${blocking.index} had to take effect ${deadline}`);
  return lines;
}

/** `count` followed by `noun`, with an s unless the count is one. */
function count(amount: number, noun: string): string {
  return `${amount} ${noun}${amount === 1 ? "" : "s"}`;
}
