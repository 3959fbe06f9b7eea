/**
 * Conditions and batch planning. A batch is first planned against a private overlay of the
 * versions it would write, so either every step's condition holds and the batch is applied, or
 * nothing is written and every failed step is named.
 */
import type { BatchStep, Condition } from "./command.ts";
import type { ConditionFailure } from "./result.ts";

/** True when a write with `condition` may proceed on a key whose version is `currentVersion` (0 = absent). */
export function conditionHolds(condition: Condition | undefined, currentVersion: number): boolean {
  if (condition === undefined) return true;
  if ("ifAbsent" in condition) return currentVersion === 0;
  return currentVersion === condition.ifVersion;
}

/** True when `step`'s condition holds on a key whose version is `currentVersion`. */
export function stepConditionHolds(step: BatchStep, currentVersion: number): boolean {
  return step.type === "check" ? currentVersion === step.ifVersion : conditionHolds(step.condition, currentVersion);
}

/** The outcome of planning a batch: per-step versions when it may apply, else every failure. */
export interface BatchPlan {
  /** For step i: the version its write will take, or for a check the version it saw. */
  readonly versions: readonly number[];
  /** Every step whose condition failed, in step order; empty when the batch may apply. */
  readonly failures: readonly ConditionFailure[];
}

/**
 * Plans `steps` in order as if applied one after another: each step's condition is judged against
 * the state left by the steps before it. A failed step writes nothing in the plan and later steps
 * are still judged, so the result names every failure. Writes take versionCounter+1, +2, ...
 * Only steps with a condition read the store.
 */
export function planBatch(
  steps: readonly BatchStep[],
  versionOf: (key: string) => number,
  versionCounter: number,
): BatchPlan {
  const overlay = new Map<string, number>();
  const versions: number[] = [];
  const failures: ConditionFailure[] = [];
  let nextVersion = versionCounter;
  steps.forEach((step, index) => {
    const conditioned = step.type === "check" || step.condition !== undefined;
    if (conditioned) {
      const currentVersion = overlay.get(step.key) ?? versionOf(step.key);
      if (!stepConditionHolds(step, currentVersion)) {
        failures.push({ index, key: step.key, currentVersion });
        versions.push(currentVersion);
        return;
      }
      if (step.type === "check") {
        versions.push(currentVersion);
        return;
      }
    }
    nextVersion += 1;
    overlay.set(step.key, step.type === "put" ? nextVersion : 0);
    versions.push(nextVersion);
  });
  return { versions, failures };
}
