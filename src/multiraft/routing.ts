/**
 * The routing table of the shared keyspace: prefix and range entries, versioned by an epoch.
 * A key goes to the group of the longest matching prefix, else of the range containing it, else
 * to the default group. Tenant keyspaces are not in the table: each tenant has its own group.
 */
import { compareKeys } from "../kv/key-order.ts";

/** One routing entry. */
export type RouteEntry =
  | { readonly kind: "prefix"; readonly prefix: string; readonly group: string }
  | { readonly kind: "range"; readonly start: string; readonly end?: string; readonly group: string };

/** The table; `epoch` increases with every change. */
export interface RoutingTable {
  readonly epoch: number;
  readonly entries: readonly RouteEntry[];
}

/** The group that owns everything no entry claims. */
export const defaultGroup = "default";

/** An empty table: everything belongs to the default group. */
export const emptyRoutingTable: RoutingTable = { epoch: 1, entries: [] };

/** The group owning `key`. */
export function routeKey(table: RoutingTable, key: string): string {
  let best: { length: number; group: string } | undefined;
  for (const entry of table.entries) {
    if (entry.kind === "prefix" && key.startsWith(entry.prefix) && (best === undefined || entry.prefix.length > best.length)) {
      best = { length: entry.prefix.length, group: entry.group };
    }
  }
  if (best !== undefined) return best.group;
  for (const entry of table.entries) {
    if (entry.kind === "range" && inRange(key, entry.start, entry.end)) return entry.group;
  }
  return defaultGroup;
}

/** Every group that may hold keys in [start, end) under `prefix`: the scan fan-out. */
export function groupsForScan(table: RoutingTable): string[] {
  return [defaultGroup, ...new Set(table.entries.map((entry) => entry.group))];
}

/** Whether adding `entry` would overlap an existing entry of the same kind (ranges) or repeat a prefix. */
export function conflictsWith(table: RoutingTable, entry: RouteEntry): RouteEntry | undefined {
  return table.entries.find((existing) => {
    if (existing.kind === "prefix" && entry.kind === "prefix") return existing.prefix === entry.prefix;
    if (existing.kind === "range" && entry.kind === "range") return rangesOverlap(existing, entry);
    return false;
  });
}

/** The table with `entry` added, at the next epoch. */
export function withEntry(table: RoutingTable, entry: RouteEntry): RoutingTable {
  return { epoch: table.epoch + 1, entries: [...table.entries, entry] };
}

/** The table without `group`'s entries, at the next epoch. */
export function withoutGroup(table: RoutingTable, group: string): RoutingTable {
  return { epoch: table.epoch + 1, entries: table.entries.filter((entry) => entry.group !== group) };
}

function inRange(key: string, start: string, end: string | undefined): boolean {
  return compareKeys(key, start) >= 0 && (end === undefined || compareKeys(key, end) < 0);
}

function rangesOverlap(a: { start: string; end?: string }, b: { start: string; end?: string }): boolean {
  const aEndsBeforeB = a.end !== undefined && compareKeys(a.end, b.start) <= 0;
  const bEndsBeforeA = b.end !== undefined && compareKeys(b.end, a.start) <= 0;
  return !aEndsBeforeB && !bEndsBeforeA;
}
