/**
 * Applies single writes and batches to a KV state machine's records: conditions judged against the
 * current versions, every write taking the next version from the group's one counter.
 */
import { assert } from "../shared/assert.ts";
import { conditionHolds, planBatch } from "./batch-plan.ts";
import type { BatchOperation, DeleteOperation, PutOperation } from "./command.ts";
import type { ApplyResult, ConditionFailed, ConditionFailure } from "./result.ts";
import type { KvStore } from "./store.ts";

/** What writes may touch in the state machine that applies them. */
export interface WriteTarget {
  readonly store: KvStore;
  /** The last version handed out. */
  readonly versionCounter: number;
  /** Advances the version counter for one write and returns the version it takes. */
  takeVersion(): number;
}

/** Applies a put, a delete or a batch (its keys were checked to be served here and free of intents). */
export function applyWrite(target: WriteTarget, operation: PutOperation | DeleteOperation | BatchOperation): ApplyResult {
  if (operation.type === "batch") return batch(target, operation);
  if (operation.condition !== undefined) {
    const currentVersion = target.store.get(operation.key)?.version ?? 0;
    if (!conditionHolds(operation.condition, currentVersion)) return conditionFailed([{ index: 0, key: operation.key, currentVersion }]);
  }
  const version = target.takeVersion();
  if (operation.type === "put") {
    target.store.set(operation.key, { value: operation.value, version });
    return { ok: true, type: "put", version };
  }
  const deleted = target.store.delete(operation.key);
  return { ok: true, type: "delete", version, deleted };
}

function batch(target: WriteTarget, operation: BatchOperation): ApplyResult {
  const plan = planBatch(operation.ops, (key) => target.store.get(key)?.version ?? 0, target.versionCounter);
  if (plan.failures.length > 0) return conditionFailed(plan.failures);
  operation.ops.forEach((step, index) => {
    if (step.type === "check") return;
    const version = target.takeVersion();
    assert(version === plan.versions[index], "a batch applies the versions it planned");
    if (step.type === "put") target.store.set(step.key, { value: step.value, version });
    else target.store.delete(step.key);
  });
  return { ok: true, type: "batch", versions: plan.versions };
}

function conditionFailed(failures: readonly ConditionFailure[]): ConditionFailed {
  assert(failures.length > 0, "a failed condition names at least one key");
  return { ok: false, code: "conditionFailed", failures };
}
