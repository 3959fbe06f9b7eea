/**
 * The range table of one keyspace: contiguous ranges of positions that together cover every
 * position exactly, each owned by one group, versioned by an epoch (the TiKV region / CockroachDB
 * range model). In range mode positions are keys; in hash mode they are hash slot positions
 * (src/kv/span.ts). Lookups are a binary search. Every function is pure and returns a new table.
 */
import { compareKeys, utf8BytesOf } from "../kv/key-order.ts";
import {
  type KeyspaceMode,
  type Span,
  positionOf,
  prefixSpan,
  slotPosition,
  slotsIn,
  spanIntersection,
  spanIsEmpty,
  spanOf,
  spanSubtract,
} from "../kv/span.ts";
import { assert } from "../shared/assert.ts";
import { hashSlotCount } from "../shared/limits.ts";
import { defaultGroup, type RoutingTable } from "./routing.ts";

/** One contiguous range of positions owned by one group. */
export interface RangeEntry extends Span {
  readonly group: string;
}

/**
 * A keyspace's ranges: sorted by start, contiguous, covering every position exactly (first start
 * "", last end undefined), adjacent entries of the same group coalesced; `epoch` grows by one with
 * every change.
 */
export interface RangeTable {
  readonly mode: KeyspaceMode;
  readonly epoch: number;
  readonly ranges: readonly RangeEntry[];
}

/** A table where `group` owns the whole keyspace, at epoch 1. */
export function singleGroupTable(mode: KeyspaceMode, group: string): RangeTable {
  assert(group.length > 0, "a group name is not empty");
  return { mode, epoch: 1, ranges: [{ start: "", group }] };
}

/** The index of the entry containing `position`: the last one starting at or before it (binary search). */
export function lookupIndex(table: RangeTable, position: string): number {
  const { ranges } = table;
  assert(ranges.length > 0, "a range table has at least one range");
  let low = 0;
  let high = ranges.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if (compareKeys((ranges[middle] as RangeEntry).start, position) <= 0) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** Binary search: the entry containing `position`. */
export function lookupPosition(table: RangeTable, position: string): RangeEntry {
  return table.ranges[lookupIndex(table, position)] as RangeEntry;
}

/** The entry owning `key` (positionOf(table.mode, key), then lookupPosition). */
export function lookupKey(table: RangeTable, key: string): RangeEntry {
  return lookupPosition(table, positionOf(table.mode, key));
}

/**
 * The table with `span` owned by `group` (boundaries split as needed, neighbours coalesced), at
 * epoch + 1; the same table (same epoch) when nothing changes, including for an empty span.
 */
export function assignSpan(table: RangeTable, span: Span, group: string): RangeTable {
  assert(group.length > 0, "a group name is not empty");
  if (spanIsEmpty(span)) return table;
  const { ranges } = table;
  // Only the entries the span touches and one neighbour on each side (for coalescing) change.
  const first = lookupIndex(table, span.start);
  let last = ranges.length - 1;
  if (span.end !== undefined) {
    last = lookupIndex(table, span.end);
    if ((ranges[last] as RangeEntry).start === span.end) last -= 1;
  }
  const low = Math.max(0, first - 1);
  const high = Math.min(ranges.length - 1, last + 1);
  const old = ranges.slice(low, high + 1);
  const before: RangeEntry[] = [];
  const after: RangeEntry[] = [];
  for (const entry of old) {
    for (const piece of spanSubtract(entry, span)) {
      const side = compareKeys(piece.start, span.start) < 0 ? before : after;
      side.push(entryOf(piece, entry.group));
    }
  }
  const window = coalesce([...before, entryOf(span, group), ...after]);
  if (sameRanges(window, old)) return table;
  const problem = chainProblemOf(window);
  assert(problem === undefined, `assignSpan keeps the ranges contiguous: ${problem}`);
  assert(window[0]?.start === old[0]?.start && window.at(-1)?.end === old.at(-1)?.end, "assignSpan changes only the window it rewrites");
  return { mode: table.mode, epoch: table.epoch + 1, ranges: ranges.slice(0, low).concat(window, ranges.slice(high + 1)) };
}

/** Every span `group` owns, in order (normalized: coalescing leaves no two of them adjacent). */
export function spansOf(table: RangeTable, group: string): Span[] {
  return table.ranges.filter((entry) => entry.group === group).map((entry) => spanOf(entry.start, entry.end));
}

/** Every group in the table, in order of first appearance. */
export function groupsOf(table: RangeTable): string[] {
  return [...new Set(table.ranges.map((entry) => entry.group))];
}

/** The entries overlapping `span`, clipped to it, in order (a scan's fan-out in range mode). */
export function entriesWithin(table: RangeTable, span: Span): RangeEntry[] {
  if (spanIsEmpty(span)) return [];
  const clipped: RangeEntry[] = [];
  for (let index = lookupIndex(table, span.start); index < table.ranges.length; index++) {
    const entry = table.ranges[index] as RangeEntry;
    if (span.end !== undefined && compareKeys(entry.start, span.end) >= 0) break;
    const overlap = spanIntersection(entry, span);
    if (overlap !== undefined) clipped.push(entryOf(overlap, entry.group));
  }
  return clipped;
}

/** Why `table` breaks an invariant, or undefined. */
export function tableProblemOf(table: RangeTable): string | undefined {
  if (table.mode !== "range" && table.mode !== "hash") return `mode must be "range" or "hash", not ${String(table.mode)}`;
  if (!Number.isSafeInteger(table.epoch) || table.epoch < 1) return `epoch must be a positive safe integer, not ${table.epoch}`;
  const { ranges } = table;
  if (ranges.length === 0) return "a table has at least one range";
  if ((ranges[0] as RangeEntry).start !== "") return "the first range must start at the beginning";
  if ((ranges.at(-1) as RangeEntry).end !== undefined) return "the last range must be unbounded";
  return chainProblemOf(ranges);
}

/** Why `ranges` are not a sorted, contiguous, coalesced chain of non-empty entries, or undefined. */
function chainProblemOf(ranges: readonly RangeEntry[]): string | undefined {
  for (let index = 0; index < ranges.length; index++) {
    const entry = ranges[index] as RangeEntry;
    const next = ranges[index + 1];
    if (typeof entry.group !== "string" || entry.group.length === 0) return `range ${index} has no group`;
    if (typeof entry.start !== "string" || utf8BytesOf(entry.start) === undefined) return `range ${index} start is not well-formed`;
    if (next === undefined) break;
    if (entry.end === undefined) return `range ${index} is unbounded but not last`;
    if (compareKeys(entry.start, entry.end) >= 0) return `range ${index} is empty or reversed`;
    if (next.start !== entry.end) return `range ${index} ends at ${JSON.stringify(entry.end)} but the next starts at ${JSON.stringify(next.start)}`;
    if (next.group === entry.group) return `ranges ${index} and ${index + 1} of ${entry.group} are not coalesced`;
  }
  return undefined;
}

/** Two groups are adjacent when some span of one ends where a span of the other starts. */
export function adjacent(table: RangeTable, a: string, b: string): boolean {
  for (let index = 0; index + 1 < table.ranges.length; index++) {
    const left = (table.ranges[index] as RangeEntry).group;
    const right = (table.ranges[index + 1] as RangeEntry).group;
    if ((left === a && right === b) || (left === b && right === a)) return true;
  }
  return false;
}

/** A move of `span` from the group `from` to the group `to`. */
export interface RangeMove {
  readonly span: Span;
  readonly from: string;
  readonly to: string;
}

/** Hash mode: how many slots each group of `table` holds, in order of first appearance. */
export function slotCountsOf(table: RangeTable): Map<string, number> {
  const counts = new Map<string, number>();
  for (const entry of table.ranges) {
    const { first, end } = slotsIn(entry);
    counts.set(entry.group, (counts.get(entry.group) ?? 0) + end - first);
  }
  return counts;
}

/**
 * Hash mode: the moves that give `newGroup` its fair share (floor(slots/(groups+1))) of slots,
 * taken from the groups holding the most, as few contiguous spans as possible, moving nothing else
 * (consistent hashing: adding a group moves only its share). Each move: a span of slot positions,
 * its current owner and the new owner. Applying the moves (in any order, they are disjoint) with
 * assignSpan gives the rebalanced table; no moves when `newGroup` already holds its share.
 */
export function rebalanceMoves(table: RangeTable, newGroup: string): RangeMove[] {
  assert(table.mode === "hash", "rebalancing by slots is for hashed keyspaces");
  assert(newGroup.length > 0, "a group name is not empty");
  const counts = slotCountsOf(table);
  const donors = [...counts].filter(([group]) => group !== newGroup);
  const need = Math.floor(hashSlotCount / (donors.length + 1)) - (counts.get(newGroup) ?? 0);
  if (need <= 0) return [];
  const takes = slotsToTake(donors, need);
  const moves: RangeMove[] = [];
  let working = table;
  for (const [donor, take] of takes) {
    for (let left = take; left > 0; ) {
      const span = nextChunk(working, donor, newGroup, left);
      const { first, end } = slotsIn(span);
      assert(end > first && end - first <= left, "each chunk moves some of the slots still wanted, no more");
      moves.push({ span, from: donor, to: newGroup });
      working = assignSpan(working, span, newGroup);
      left -= end - first;
    }
  }
  return moves;
}

/**
 * How many slots each donor gives so that `need` slots come from the largest holders (water
 * filling): every donor above a level L+1 is cut to L+1, then the rest comes one slot each from
 * those at L+1, in order of first appearance.
 */
function slotsToTake(donors: readonly (readonly [string, number])[], need: number): Map<string, number> {
  const above = (level: number): number => donors.reduce((sum, [, count]) => sum + Math.max(0, count - level), 0);
  assert(above(0) >= need, "the other groups hold the slots the new group needs");
  let low = 0;
  let high = Math.max(...donors.map(([, count]) => count));
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if (above(middle) >= need) low = middle;
    else high = middle - 1;
  }
  const level = low + 1;
  let remainder = need - above(level);
  const takes = new Map<string, number>();
  for (const [group, count] of donors) {
    let take = Math.max(0, count - level);
    if (remainder > 0 && count >= level) {
      take += 1;
      remainder -= 1;
    }
    if (take > 0) takes.set(group, take);
  }
  assert(remainder === 0, "water filling takes exactly what is needed");
  return takes;
}

/**
 * The next span `donor` gives to `receiver`, of at most `wanted` slots: a whole entry when none
 * holds `wanted` slots, else the part of the smallest entry that does (preferring one beside the
 * receiver) next to the receiver's neighbouring entry, or its tail.
 */
function nextChunk(table: RangeTable, donor: string, receiver: string, wanted: number): Span {
  const candidates = table.ranges
    .map((entry, index) => ({ entry, index, ...slotsIn(entry) }))
    .filter((candidate) => candidate.entry.group === donor && candidate.end > candidate.first);
  assert(candidates.length > 0, "the donor holds slots");
  const fits = candidates.filter((candidate) => candidate.end - candidate.first >= wanted);
  if (fits.length === 0) {
    const largest = candidates.reduce((best, candidate) => (candidate.end - candidate.first > best.end - best.first ? candidate : best));
    return spanOf(largest.entry.start, largest.entry.end);
  }
  const besideReceiver = (index: number): boolean => table.ranges[index - 1]?.group === receiver || table.ranges[index + 1]?.group === receiver;
  const chosen = fits.reduce((best, candidate) => {
    const rank = (option: typeof candidate): [boolean, number] => [besideReceiver(option.index), option.end - option.first];
    const [bestBeside, bestSize] = rank(best);
    const [beside, size] = rank(candidate);
    return beside !== bestBeside ? (beside ? candidate : best) : size < bestSize ? candidate : best;
  });
  const { entry, index, first, end } = chosen;
  if (end - first === wanted) return spanOf(entry.start, entry.end);
  if (table.ranges[index - 1]?.group === receiver) return spanOf(entry.start, slotPosition(first + wanted));
  return spanOf(slotPosition(end - wanted), entry.end);
}

/** Hash mode: the table where every one of `groups` owns an equal contiguous share of the slots (a new hashed keyspace). */
export function hashedTable(groups: readonly string[]): RangeTable {
  assert(groups.length > 0 && groups.length <= hashSlotCount, `between 1 and ${hashSlotCount} groups share the slots`);
  assert(new Set(groups).size === groups.length, "the groups are distinct");
  const boundary = (index: number): number => Math.floor((index * hashSlotCount) / groups.length);
  const ranges = groups.map((group, index) => {
    assert(group.length > 0, "a group name is not empty");
    const start = index === 0 ? "" : slotPosition(boundary(index));
    return entryOf(spanOf(start, index === groups.length - 1 ? undefined : slotPosition(boundary(index + 1))), group);
  });
  return { mode: "hash", epoch: 1, ranges };
}

/**
 * Converts the legacy routing table (src/multiraft/routing.ts: prefix and range entries over a
 * default group) to a RangeTable in range mode at the same epoch, so that lookupKey agrees with
 * routeKey on every key: ranges are laid first (the earliest matching entry wins, so they are laid
 * last to first), then prefixes from shortest to longest (the longest wins; of two equal prefixes
 * the earlier entry wins, so it is laid after).
 */
export function fromLegacyRouting(legacy: RoutingTable): RangeTable {
  let table = singleGroupTable("range", defaultGroup);
  const numbered = legacy.entries.map((entry, index) => ({ entry, index }));
  for (const { entry } of numbered.toReversed()) {
    if (entry.kind === "range") table = assignSpan(table, spanOf(entry.start, entry.end), entry.group);
  }
  const prefixes = numbered.flatMap(({ entry, index }) => (entry.kind === "prefix" ? [{ prefix: entry.prefix, group: entry.group, index }] : []));
  prefixes.sort((left, right) => left.prefix.length - right.prefix.length || right.index - left.index);
  for (const { prefix, group } of prefixes) table = assignSpan(table, prefixSpan(prefix), group);
  return { mode: "range", epoch: legacy.epoch, ranges: table.ranges };
}

function entryOf(span: Span, group: string): RangeEntry {
  return span.end === undefined ? { start: span.start, group } : { start: span.start, end: span.end, group };
}

/** Merges neighbouring entries of the same group; the input is sorted and contiguous. */
function coalesce(entries: readonly RangeEntry[]): RangeEntry[] {
  const merged: RangeEntry[] = [];
  for (const entry of entries) {
    const last = merged.at(-1);
    if (last !== undefined && last.group === entry.group) merged[merged.length - 1] = entryOf(spanOf(last.start, entry.end), entry.group);
    else merged.push(entry);
  }
  return merged;
}

function sameRanges(left: readonly RangeEntry[], right: readonly RangeEntry[]): boolean {
  return (
    left.length === right.length &&
    left.every((entry, index) => {
      const other = right[index] as RangeEntry;
      return entry.start === other.start && entry.end === other.end && entry.group === other.group;
    })
  );
}
