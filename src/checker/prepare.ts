/**
 * Turns the operations of one key into search steps for the register model: drops what observes
 * nothing, turns a cas `fail` into an observation, and narrows the `info` steps, which would
 * otherwise stay candidates to the end of the history. Values are interned to small integers so
 * that the search compares numbers, not strings.
 */
import { assert } from "../shared/assert.ts";
import type { Operation, Value } from "./history.ts";

/**
 * How a step acts on the register.
 * `read`: the value must equal `expected`. `write`: sets `next`. `cas`: the value must equal
 * `expected`, then becomes `next`. `casMismatch` (a cas `fail`): the value must differ from
 * `expected`. `casMaybe` (a cas `info`): becomes `next` if it equals `expected`, else stays.
 */
export type StepKind = "read" | "write" | "cas" | "casMismatch" | "casMaybe";

/** One operation as the search sees it. */
export interface SearchStep {
  /** The operation this step stands for. */
  operation: Operation;
  kind: StepKind;
  /** Interned value compared against (read, cas, casMismatch, casMaybe); 0 otherwise. */
  expected: number;
  /** Interned value set (write, cas, casMaybe); 0 otherwise. */
  next: number;
  /** Where the call starts, in history positions. */
  callPosition: number;
  /** Where the call must be linearized by: its completion, Infinity, or a narrowed bound (see narrowInfo). */
  returnPosition: number;
  /**
   * Steps with the same effect whose return is at Infinity are twins: interchangeable, so the
   * search places them in call order (see orderTwins). Index of the previous twin, or -1.
   */
  twinPrevious: number;
  /** Index of the next twin in call order, or -1. */
  twinNext: number;
}

/** The interned value 0: null, the initial value of every key. */
export const nullState = 0;

/** The interned value 1: any value that no step ever compares against (see mergeUnobserved). */
export const unobservedState = 1;

/** Prepares the operations of one key (all with the same key) for the search. */
export function prepareKey(operations: readonly Operation[]): SearchStep[] {
  const ids = new Map<string, number>();
  const intern = (value: Value): number => {
    if (value === null) return nullState;
    let id = ids.get(value);
    if (id === undefined) {
      id = ids.size + 2;
      ids.set(value, id);
    }
    return id;
  };
  const steps: SearchStep[] = [];
  for (const operation of operations) {
    assert(operation.key === operations[0]!.key, "prepareKey takes the operations of one key");
    const kind = stepKind(operation);
    if (kind === null) continue;
    steps.push({
      operation,
      kind,
      expected: kind === "write" ? 0 : intern(operation.f === "read" ? operation.value : operation.expected),
      next: kind === "read" || kind === "casMismatch" ? 0 : intern(operation.value),
      callPosition: operation.invokePosition,
      returnPosition: operation.completePosition,
      twinPrevious: -1,
      twinNext: -1,
    });
  }
  return orderTwins(mergeUnobserved(narrowInfo(steps)));
}

/** The step kind of an operation, or null when the operation observes nothing and changed nothing. */
function stepKind(operation: Operation): StepKind | null {
  switch (operation.f) {
    case "read":
      // A read that failed or whose answer was lost tells nothing about the register.
      return operation.outcome === "ok" ? "read" : null;
    case "write":
    case "delete":
      return operation.outcome === "fail" ? null : "write";
    case "cas":
      if (operation.outcome === "ok") return "cas";
      // A cas fail compared and did not match: an observation that the value differed.
      return operation.outcome === "fail" ? "casMismatch" : "casMaybe";
  }
}

/**
 * Narrows `info` steps (their return is at Infinity, so they stay candidates forever and multiply
 * the search states). Both rules keep the verdict unchanged:
 * - Dropped: an info step whose value no read ok or cas ok observes and no cas info compares
 *   against, in a key without any cas fail. If a linearization uses it, removing it changes the
 *   register only until the next write, and nothing in between can see the difference (a cas
 *   info in between moves to the end, where nothing follows).
 * - Bounded: an info step that is the only writer of a value that some read or cas ok observes
 *   must precede the first such observer's completion, so its return moves there.
 */
function narrowInfo(steps: readonly SearchStep[]): SearchStep[] {
  const anyMismatch = steps.some((step) => step.kind === "casMismatch");
  /** Per value: how many steps may write it, and the earliest completion of a certain observer. */
  const writers = new Map<number, number>();
  const observedBy = new Map<number, number>();
  const conditional = new Set<number>();
  for (const step of steps) {
    if (step.kind === "write" || step.kind === "cas" || step.kind === "casMaybe") {
      writers.set(step.next, (writers.get(step.next) ?? 0) + 1);
    }
    if (step.kind === "read" || step.kind === "cas") {
      const earliest = observedBy.get(step.expected) ?? Infinity;
      observedBy.set(step.expected, Math.min(earliest, step.returnPosition));
    }
    if (step.kind === "casMaybe") conditional.add(step.expected);
  }
  const narrowed: SearchStep[] = [];
  for (const step of steps) {
    const isInfo = step.returnPosition === Infinity && step.kind !== "read" && step.kind !== "casMismatch";
    if (!isInfo) {
      narrowed.push(step);
      continue;
    }
    const observer = observedBy.get(step.next);
    if (observer === undefined && !conditional.has(step.next) && !anyMismatch) continue;
    const isOnlyWriter = step.next !== 0 && writers.get(step.next) === 1;
    if (observer !== undefined && isOnlyWriter && observer > step.callPosition) {
      narrowed.push({ ...step, returnPosition: observer - 0.5 });
    } else {
      narrowed.push(step);
    }
  }
  return narrowed;
}

/**
 * Replaces the value of every info step that nothing compares against by unobservedState. Every
 * check of the model compares the register with a value some step names, and all unnamed values
 * differ from all named ones, so the verdict is unchanged; but the search now sees one state
 * where it saw many.
 */
function mergeUnobserved(steps: SearchStep[]): SearchStep[] {
  const named = new Set<number>();
  for (const step of steps) {
    if (step.kind !== "write") named.add(step.expected);
  }
  return steps.map((step) => {
    const isInfo = step.returnPosition === Infinity && (step.kind === "write" || step.kind === "casMaybe");
    return isInfo && !named.has(step.next) ? { ...step, next: unobservedState } : step;
  });
}

/**
 * Links steps with the same effect and a return at Infinity into chains in call order. Two such
 * steps are twins: once both are called, swapping their places in a linearization gives another
 * one, so searching only the orders where the earlier-called twin goes first loses nothing, and
 * k pending twins cost k + 1 configurations instead of 2^k.
 */
function orderTwins(steps: SearchStep[]): SearchStep[] {
  const lastOfEffect = new Map<string, number>();
  const order = steps.map((_, index) => index).sort((left, right) => steps[left]!.callPosition - steps[right]!.callPosition);
  for (const index of order) {
    const step = steps[index]!;
    if (step.returnPosition !== Infinity) continue;
    const effect = `${step.kind} ${step.expected} ${step.next}`;
    const previous = lastOfEffect.get(effect);
    if (previous !== undefined) {
      step.twinPrevious = previous;
      steps[previous]!.twinNext = index;
    }
    lastOfEffect.set(effect, index);
  }
  return steps;
}
