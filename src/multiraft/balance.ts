/**
 * Automatic splits and merges, decided by the metadata group from the load its data groups report
 * (pure: the decision only; a host carries it out as a split or merge saga). A group's leader
 * reports when it passes a split threshold (keys, bytes, or writes per second over its last
 * window) and once when it goes quiet small; nothing is polled, so an idle group costs nothing.
 * Only groups that an automatic split created are merged automatically, back into a neighbour,
 * and only when both are quiet and their sum stays well under the split threshold, so a merge
 * cannot be undone by the next split (hysteresis).
 */
import type { RangeTable } from "./keyspace.ts";
import { adjacent, groupsOf } from "./keyspace.ts";

/** When groups split and merge; every replica and the metadata group use the same settings. */
export interface BalanceThresholds {
  /** A group holding at least this many keys splits. */
  readonly splitKeys: number;
  /** A group holding at least this many bytes of keys and values splits. */
  readonly splitBytes: number;
  /** A group taking at least this many writes per second (over its report window) splits. */
  readonly splitWritesPerSecond: number;
  /** Two adjacent quiet groups each under this many keys merge (when one was made by a split). */
  readonly mergeKeys: number;
}

/** Defaults: split at 100,000 keys, 64 MiB or 1,000 writes/s; merge quiet groups under 1,000 keys. */
export const defaultBalanceThresholds: BalanceThresholds = { splitKeys: 100_000, splitBytes: 64 * 1024 * 1024, splitWritesPerSecond: 1_000, mergeKeys: 1_000 };

/** What a group's leader reports. */
export interface GroupLoad {
  readonly group: string;
  readonly keys: number;
  readonly bytes: number;
  readonly writesPerSecond: number;
  /** The group has gone idle (its leader quiesced with no write waiting). */
  readonly quiet: boolean;
  /** The group's ownership epoch when measured (it grows with every split, merge or move touching the group). */
  readonly epoch?: number;
}

/** What the metadata group does about a report. */
export type BalanceDecision =
  | { readonly kind: "split"; readonly group: string; readonly reason: string }
  | { readonly kind: "merge"; readonly into: string; readonly from: string; readonly reason: string }
  | { readonly kind: "none" };

/** Whether a report passes a split threshold, and which. */
export function splitReason(load: GroupLoad, thresholds: BalanceThresholds): string | undefined {
  if (load.keys < 2) return undefined;
  if (load.keys >= thresholds.splitKeys) return `${load.keys} keys >= ${thresholds.splitKeys}`;
  if (load.bytes >= thresholds.splitBytes) return `${load.bytes} bytes >= ${thresholds.splitBytes}`;
  if (load.writesPerSecond >= thresholds.splitWritesPerSecond) return `${Math.round(load.writesPerSecond)} writes/s >= ${thresholds.splitWritesPerSecond}`;
  return undefined;
}

/**
 * The decision for `load`, given the latest reports of the other groups, the range table and the
 * groups an automatic split created (`mergeable`).
 */
export function decide(load: GroupLoad, latest: ReadonlyMap<string, GroupLoad>, table: RangeTable, mergeable: ReadonlySet<string>, thresholds: BalanceThresholds): BalanceDecision {
  if (!groupsOf(table).includes(load.group)) return { kind: "none" };
  const reason = splitReason(load, thresholds);
  if (reason !== undefined) return { kind: "split", group: load.group, reason };
  if (!load.quiet || load.keys >= thresholds.mergeKeys) return { kind: "none" };
  for (const neighbour of groupsOf(table)) {
    if (neighbour === load.group || !adjacent(table, neighbour, load.group)) continue;
    const other = latest.get(neighbour);
    if (other === undefined || !other.quiet || other.keys >= thresholds.mergeKeys) continue;
    if (load.keys + other.keys >= thresholds.splitKeys / 2) continue;
    if (mergeable.has(load.group)) return { kind: "merge", into: neighbour, from: load.group, reason: `${load.group} and ${neighbour} are quiet with ${load.keys} and ${other.keys} keys` };
    if (mergeable.has(neighbour)) return { kind: "merge", into: load.group, from: neighbour, reason: `${neighbour} and ${load.group} are quiet with ${other.keys} and ${load.keys} keys` };
  }
  return { kind: "none" };
}
