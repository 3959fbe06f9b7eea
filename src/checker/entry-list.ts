/**
 * The doubly linked lists the linearization search walks (Wing & Gong 1993). The main list holds
 * the call and return entries of steps with a finite return, in history order. The info list holds
 * calls of steps whose return is at Infinity (they never block anything): only the first unplaced
 * twin of each chain (see orderTwins), so its order says nothing.
 * Removed entries keep their own links, so a removal is undone in O(1) (Knuth's dancing links).
 */
import { assert } from "../shared/assert.ts";
import type { SearchStep } from "./prepare.ts";

/** Marks a return entry in `EntryList.returnOf`. */
export const isReturn = -1;
/** Marks an info-list entry in `EntryList.returnOf`. */
export const isInfoCall = -2;

/** Both lists in one set of arrays; -1 ends a list. */
export interface EntryList {
  /** Head of the main list; always 0. */
  mainHead: number;
  /** Head of the info list. */
  infoHead: number;
  next: Int32Array;
  previous: Int32Array;
  /** Step index of each entry; -1 for heads. */
  stepOf: Int32Array;
  /** A main call's return entry, or isReturn, or isInfoCall. */
  returnOf: Int32Array;
  /** History position of each entry: the call's position for calls, the return's for returns. */
  position: Float64Array;
  /** The info-list entry of each info step; -1 for other steps. */
  infoEntryOf: Int32Array;
}

/** Builds both lists for `steps`. */
export function buildEntryList(steps: readonly SearchStep[]): EntryList {
  const mainEvents: Array<{ position: number; step: number; isCall: boolean }> = [];
  const infoSteps: number[] = [];
  steps.forEach((step, index) => {
    assert(step.callPosition < step.returnPosition, "a call starts before it returns");
    if (step.returnPosition === Infinity) {
      infoSteps.push(index);
      return;
    }
    mainEvents.push({ position: step.callPosition, step: index, isCall: true });
    mainEvents.push({ position: step.returnPosition, step: index, isCall: false });
  });
  mainEvents.sort((left, right) => left.position - right.position);
  infoSteps.sort((left, right) => steps[left]!.callPosition - steps[right]!.callPosition);
  const infoHead = mainEvents.length + 1;
  const size = infoHead + infoSteps.length + 1;
  const list: EntryList = {
    mainHead: 0,
    infoHead,
    next: new Int32Array(size),
    previous: new Int32Array(size),
    stepOf: new Int32Array(size).fill(-1),
    returnOf: new Int32Array(size).fill(isReturn),
    position: new Float64Array(size),
    infoEntryOf: new Int32Array(steps.length).fill(-1),
  };
  const callEntryOf = new Int32Array(steps.length);
  mainEvents.forEach((event, index) => {
    const entry = index + 1;
    append(list, entry, event.step, event.position);
    if (event.isCall) callEntryOf[event.step] = entry;
    else list.returnOf[callEntryOf[event.step]!] = entry;
  });
  list.next[infoHead - 1] = -1;
  let last = infoHead;
  infoSteps.forEach((step, index) => {
    const entry = infoHead + 1 + index;
    list.stepOf[entry] = step;
    list.position[entry] = steps[step]!.callPosition;
    list.returnOf[entry] = isInfoCall;
    list.infoEntryOf[step] = entry;
    if (steps[step]!.twinPrevious !== -1) return;
    list.previous[entry] = last;
    list.next[last] = entry;
    last = entry;
  });
  list.next[last] = -1;
  return list;
}

/** Links `entry` after `entry - 1`, which is the main list's last entry (or its head). */
function append(list: EntryList, entry: number, step: number, position: number): void {
  list.stepOf[entry] = step;
  list.position[entry] = position;
  list.previous[entry] = entry - 1;
  list.next[entry - 1] = entry;
}

/** Removes `entry` from its list; it keeps its own links for relink. */
export function unlink(list: EntryList, entry: number): void {
  const previous = list.previous[entry]!;
  const next = list.next[entry]!;
  list.next[previous] = next;
  if (next !== -1) list.previous[next] = previous;
}

/** Puts back an entry removed by unlink; entries go back in the reverse order of their removal. */
export function relink(list: EntryList, entry: number): void {
  const previous = list.previous[entry]!;
  const next = list.next[entry]!;
  list.next[previous] = entry;
  if (next !== -1) list.previous[next] = entry;
}

/** Removes `entry` and links `successor`, which is not in any list, in its place; undo with unlink then relink. */
export function replace(list: EntryList, entry: number, successor: number): void {
  list.previous[successor] = list.previous[entry]!;
  list.next[successor] = list.next[entry]!;
  relink(list, successor);
}
