/**
 * Linearization search for one key (Wing & Gong 1993, with Lowe's memo of explored
 * configurations, as in Porcupine). A depth-first search linearizes any call that comes before the
 * first remaining return, removing the call and its return from the list, and backtracks when no
 * call before that return fits. Steps whose return is at Infinity (info) live in a list of their
 * own, since they never block anything; InfoOrder says when they are tried.
 */
import { assert } from "../shared/assert.ts";
import { buildEntryList, isInfoCall, isReturn, relink, replace, unlink, type EntryList } from "./entry-list.ts";
import { nullState, type SearchStep } from "./prepare.ts";
import { Bitset, ConfigurationCache } from "./search-cache.ts";

/** The verdict of a search: a linearization exists, none exists, or the step budget ran out first. */
export type SearchOutcome = "linearizable" | "violation" | "unknown";

/** Where the deepest attempt stopped, in indexes into the steps searched. */
export interface SearchFailure {
  /** The longest linearizable prefix found, in linearization order. */
  prefix: number[];
  /** The step whose return was reached before it could be linearized. */
  blocking: number;
  /** Steps with a finite return whose calls came before that return; none could extend the prefix. */
  candidates: number[];
}

/** The register value after applying `step` to `state`, or -1 when the step cannot happen there. */
export function applyStep(step: SearchStep, state: number): number {
  switch (step.kind) {
    case "read":
      return state === step.expected ? state : -1;
    case "write":
      return step.next;
    case "cas":
      return state === step.expected ? step.next : -1;
    case "casMismatch":
      return state !== step.expected ? state : -1;
    case "casMaybe":
      return state === step.expected ? step.next : state;
  }
}

/**
 * When info steps are tried at each configuration. `first`: before the finite calls, which places
 * them early and finds the linearizations of real histories fast, where a lost response usually
 * hides an effect that happened at once. `last`: only when no finite call fits, so the memo meets
 * small info sets first and they cover the larger ones, which refutes violations fast.
 */
export type InfoOrder = "first" | "last";

/**
 * A resumable depth-first search for a linearization of the steps of one key, from the initial
 * value null. run() can be called again after it stops for lack of budget; it then continues.
 */
export class LinearizationSearch {
  readonly #steps: readonly SearchStep[];
  readonly #isInfoFirst: boolean;
  readonly #list: EntryList;
  readonly #slots: { slot: Int32Array; isInfo: Uint8Array; finiteCount: number };
  readonly #finite: Bitset;
  readonly #info: Bitset;
  readonly #cache = new ConfigurationCache();
  /** Call entries of the current prefix, with the value and the info limit before each. */
  readonly #stackCalls: Int32Array;
  readonly #stackStates: Int32Array;
  readonly #stackLimits: Float64Array;
  #depth = 0;
  #state = nullState;
  /** Position of the first remaining return: info calls after it are not yet candidates. */
  #limit = 0;
  /** The entry to try next: in the main list, or in the info list (where -1 means it is exhausted). */
  #entry = -1;
  #outcome: SearchOutcome = "unknown";
  #failure: SearchFailure | null = null;
  #stepsTaken = 0;

  constructor(steps: readonly SearchStep[], infoOrder: InfoOrder) {
    this.#steps = steps;
    this.#isInfoFirst = infoOrder === "first";
    this.#list = buildEntryList(steps);
    this.#slots = slotsOf(steps);
    this.#finite = new Bitset(this.#slots.finiteCount);
    this.#info = new Bitset(steps.length - this.#slots.finiteCount);
    this.#stackCalls = new Int32Array(steps.length);
    this.#stackStates = new Int32Array(steps.length);
    this.#stackLimits = new Float64Array(steps.length);
    this.#startConfiguration();
  }

  /** `unknown` until run() finishes. */
  get outcome(): SearchOutcome {
    return this.#outcome;
  }

  /** The deepest stuck prefix, once the outcome is `violation`. */
  get failure(): SearchFailure | null {
    return this.#outcome === "violation" ? this.#failure : null;
  }

  /** Loop steps taken so far, over all calls of run(). */
  get stepsTaken(): number {
    return this.#stepsTaken;
  }

  /** Continues the search for at most `budget` loop steps; returns the outcome, `unknown` if unfinished. */
  run(budget: number): SearchOutcome {
    const list = this.#list;
    for (let count = 0; this.#outcome === "unknown"; count++) {
      if (list.next[list.mainHead] === -1) {
        // Info steps still unplaced go last, in chain order: a write or a cas info fits any value.
        assert(this.#depth >= this.#slots.finiteCount, "a linearization places every finite step");
        this.#outcome = "linearizable";
      } else if (count === budget) {
        break;
      } else {
        this.#stepsTaken++;
        this.#step();
      }
    }
    return this.#outcome;
  }

  #step(): void {
    const list = this.#list;
    const entry = this.#entry;
    if (entry === -1) {
      // The info list is exhausted.
      if (this.#isInfoFirst) this.#enterMain();
      else this.#backtrack();
      return;
    }
    const matchingReturn = list.returnOf[entry]!;
    if (matchingReturn === isReturn) {
      // The first remaining return, and its call was not placed: no finite call fits here.
      if (this.#failure === null || this.#depth > this.#failure.prefix.length) {
        this.#failure = describeFailure(list, this.#stackCalls, this.#depth, entry);
      }
      if (this.#isInfoFirst) this.#backtrack();
      else this.#enterInfo(list.position[entry]!);
      return;
    }
    const isInfo = matchingReturn === isInfoCall;
    if (!(isInfo && list.position[entry]! > this.#limit) && this.#tryPlace(entry, isInfo)) return;
    this.#entry = list.next[entry]!;
  }

  /** Places the call at `entry` if it fits and leads to an unexplored configuration. */
  #tryPlace(entry: number, isInfo: boolean): boolean {
    const stepIndex = this.#list.stepOf[entry]!;
    const after = applyStep(this.#steps[stepIndex]!, this.#state);
    // An info step that changes nothing only adds to the set: the current configuration covers it.
    if (after === -1 || (isInfo && after === this.#state)) return false;
    const set = isInfo ? this.#info : this.#finite;
    const slot = this.#slots.slot[stepIndex]!;
    set.add(slot);
    if (!this.#cache.addIfNew(this.#finite, this.#info, after)) {
      set.remove(slot);
      return false;
    }
    this.#stackCalls[this.#depth] = entry;
    this.#stackStates[this.#depth] = this.#state;
    this.#stackLimits[this.#depth] = this.#limit;
    this.#depth++;
    this.#state = after;
    this.#takeOut(entry);
    this.#startConfiguration();
    return true;
  }

  #startConfiguration(): void {
    if (this.#isInfoFirst && this.#list.next[this.#list.mainHead] !== -1) this.#enterInfo(this.#firstReturnPosition());
    else this.#enterMain();
  }

  #enterMain(): void {
    this.#entry = this.#list.next[this.#list.mainHead]!;
  }

  #enterInfo(limit: number): void {
    this.#limit = limit;
    this.#entry = this.#list.next[this.#list.infoHead]!;
  }

  #firstReturnPosition(): number {
    const list = this.#list;
    let entry = list.next[list.mainHead]!;
    while (list.returnOf[entry] !== isReturn) entry = list.next[entry]!;
    return list.position[entry]!;
  }

  /** Undoes the last step of the prefix and resumes after it; with an empty prefix, there is no linearization. */
  #backtrack(): void {
    if (this.#depth === 0) {
      assert(this.#failure !== null, "the search gives up only after reaching a return");
      this.#outcome = "violation";
      return;
    }
    this.#depth--;
    const call = this.#stackCalls[this.#depth]!;
    this.#state = this.#stackStates[this.#depth]!;
    this.#limit = this.#stackLimits[this.#depth]!;
    this.#putBack(call);
    this.#entry = this.#list.next[call]!;
  }

  /** Takes a placed call (and its return, or hands its place to its next twin) out of the lists. */
  #takeOut(call: number): void {
    const list = this.#list;
    const matchingReturn = list.returnOf[call]!;
    if (matchingReturn !== isInfoCall) {
      unlink(list, call);
      unlink(list, matchingReturn);
      return;
    }
    const twin = this.#steps[list.stepOf[call]!]!.twinNext;
    if (twin === -1) unlink(list, call);
    else replace(list, call, list.infoEntryOf[twin]!);
  }

  /** Reverses #takeOut(call) and removes the step from the placed sets. */
  #putBack(call: number): void {
    const list = this.#list;
    const stepIndex = list.stepOf[call]!;
    const matchingReturn = list.returnOf[call]!;
    if (matchingReturn !== isInfoCall) {
      this.#finite.remove(this.#slots.slot[stepIndex]!);
      relink(list, matchingReturn);
      relink(list, call);
      return;
    }
    this.#info.remove(this.#slots.slot[stepIndex]!);
    const twin = this.#steps[stepIndex]!.twinNext;
    if (twin !== -1) unlink(list, list.infoEntryOf[twin]!);
    relink(list, call);
  }
}

/** Each step's index within its bitset: finite steps and info steps are numbered apart. */
function slotsOf(steps: readonly SearchStep[]): { slot: Int32Array; isInfo: Uint8Array; finiteCount: number } {
  const slot = new Int32Array(steps.length);
  const isInfo = new Uint8Array(steps.length);
  let finiteCount = 0;
  let infoCount = 0;
  steps.forEach((step, index) => {
    const infinite = step.returnPosition === Infinity;
    isInfo[index] = infinite ? 1 : 0;
    slot[index] = infinite ? infoCount++ : finiteCount++;
  });
  return { slot, isInfo, finiteCount };
}

function describeFailure(list: EntryList, stackCalls: Int32Array, depth: number, returnEntry: number): SearchFailure {
  const prefix = Array.from(stackCalls.subarray(0, depth), (call) => list.stepOf[call]!);
  const candidates: number[] = [];
  for (let entry = list.next[list.mainHead]!; entry !== returnEntry; entry = list.next[entry]!) {
    if (list.returnOf[entry] !== isReturn) candidates.push(list.stepOf[entry]!);
  }
  return { prefix, blocking: list.stepOf[returnEntry]!, candidates };
}
