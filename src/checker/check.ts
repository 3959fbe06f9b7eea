/**
 * Linearizability check of a key-value history. Linearizability is compositional (Herlihy & Wing
 * 1990, the "P-compositionality" Porcupine uses): a history is linearizable exactly when the
 * sub-history of every key is, so each key is searched on its own.
 */
import { assert } from "../shared/assert.ts";
import type { Operation, Value } from "./history.ts";
import { prepareKey, type SearchStep } from "./prepare.ts";
import { LinearizationSearch, type SearchOutcome } from "./search.ts";

/** Default budget of search steps for a whole history: from about one to several seconds of work. */
export const checkStepsMaxDefault = 10_000_000;

/** Options of checkHistory. */
export interface CheckOptions {
  /** Budget of search steps over all keys; past it the verdict is `unknown`. */
  stepsMax?: number;
}

/** Why a key is not linearizable: the deepest attempt at ordering its operations. */
export interface LinearizationFailure {
  /** The longest linearizable prefix found, in linearization order. */
  prefix: Operation[];
  /** The register value after that prefix. */
  valueAfterPrefix: Value;
  /** The operation that completed before it could be placed after the prefix. */
  blocking: Operation;
  /** Operations that real-time order allowed next (the blocking one among them); none fits. */
  candidates: Operation[];
}

/** The verdict for one key. */
export interface KeyCheckResult {
  key: string;
  outcome: SearchOutcome;
  /** True exactly when `outcome` is `linearizable`. */
  linearizable: boolean;
  /** Operations on the key in the history, of every outcome. */
  operationsCount: number;
  /** Search steps spent on the key. */
  steps: number;
  /** Set exactly when `outcome` is `violation`. */
  failure: LinearizationFailure | null;
}

/** The verdict for a history: a violation anywhere wins over unknown, which wins over linearizable. */
export interface CheckResult {
  outcome: SearchOutcome;
  /** True exactly when `outcome` is `linearizable`. */
  linearizable: boolean;
  operationsCount: number;
  keysCount: number;
  /** Search steps spent in total. */
  steps: number;
  /** One result per key, sorted by key. */
  keys: KeyCheckResult[];
}

/** Checks that `operations` (as from parseHistory or HistoryRecorder) have a linearization per key. */
export function checkHistory(operations: readonly Operation[], options: CheckOptions = {}): CheckResult {
  const stepsMax = options.stepsMax ?? checkStepsMaxDefault;
  assert(Number.isSafeInteger(stepsMax) && stepsMax >= 0, `stepsMax must be a non-negative integer, got ${stepsMax}`);
  const byKey = new Map<string, Operation[]>();
  for (const operation of operations) {
    const list = byKey.get(operation.key);
    if (list === undefined) byKey.set(operation.key, [operation]);
    else list.push(operation);
  }
  // Small keys first, so that one hard key spending the budget does not hide a violation elsewhere.
  const keysBySize = [...byKey.keys()].sort((left, right) => byKey.get(left)!.length - byKey.get(right)!.length);
  const results: KeyCheckResult[] = [];
  let steps = 0;
  for (const key of keysBySize) {
    const result = checkKey(key, byKey.get(key)!, stepsMax - steps);
    steps += result.steps;
    results.push(result);
  }
  assert(steps <= stepsMax, "the search keeps within its budget");
  results.sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0));
  const outcome = combineOutcomes(results.map((result) => result.outcome));
  return {
    outcome,
    linearizable: outcome === "linearizable",
    operationsCount: operations.length,
    keysCount: byKey.size,
    steps,
    keys: results,
  };
}

/** Budget of the first slice each search order gets; slices double, so both orders advance evenly. */
const sliceStepsFirst = 4096;

/**
 * Races the two info orders on one key, in doubling slices: both are exact, so the first to finish
 * decides, and a key costs at most about twice what the better order needs.
 */
function raceSearches(steps: readonly SearchStep[], stepsMax: number): { search: LinearizationSearch; steps: number } {
  const searches = [new LinearizationSearch(steps, "first")];
  // Without info steps both orders are the same search.
  if (steps.some((step) => step.returnPosition === Infinity)) searches.push(new LinearizationSearch(steps, "last"));
  let spent = 0;
  for (let slice = sliceStepsFirst; ; slice *= 2) {
    for (const search of searches) {
      const before = search.stepsTaken;
      const outcome = search.run(Math.min(slice, stepsMax - spent));
      spent += search.stepsTaken - before;
      if (outcome !== "unknown" || spent >= stepsMax) return { search, steps: spent };
    }
  }
}

function checkKey(key: string, operations: readonly Operation[], stepsMax: number): KeyCheckResult {
  const steps = prepareKey(operations);
  const { search, steps: stepsSpent } = raceSearches(steps, stepsMax);
  let failure: LinearizationFailure | null = null;
  if (search.failure !== null) {
    const operationOf = (index: number): Operation => steps[index]!.operation;
    const prefix = search.failure.prefix.map(operationOf);
    failure = {
      prefix,
      valueAfterPrefix: valueAfter(prefix),
      blocking: operationOf(search.failure.blocking),
      candidates: search.failure.candidates.map(operationOf),
    };
  }
  assert((failure !== null) === (search.outcome === "violation"), "a violation comes with its failure");
  return {
    key,
    outcome: search.outcome,
    linearizable: search.outcome === "linearizable",
    operationsCount: operations.length,
    steps: stepsSpent,
    failure,
  };
}

/** Replays operations in order on a register that starts absent (the search works on interned values). */
function valueAfter(prefix: readonly Operation[]): Value {
  let value: Value = null;
  for (const operation of prefix) {
    if (operation.f === "write") value = operation.value;
    else if (operation.f === "delete") value = null;
    else if (operation.f === "cas" && operation.outcome !== "fail" && value === operation.expected) value = operation.value;
  }
  return value;
}

function combineOutcomes(outcomes: readonly SearchOutcome[]): SearchOutcome {
  if (outcomes.includes("violation")) return "violation";
  if (outcomes.includes("unknown")) return "unknown";
  return "linearizable";
}
