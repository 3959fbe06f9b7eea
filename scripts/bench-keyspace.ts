/**
 * Micro-benchmark of routing lookups: lookupKey (binary search) over a 10,000-range table versus the
 * legacy linear routeKey over 10,000 entries (prefix and range entries), on the same random keys.
 * Not part of npm test. Usage: node scripts/bench-keyspace.ts [--entries N] [--lookups N]
 */
import { type RangeTable, fromLegacyRouting, hashedTable, lookupKey } from "../src/multiraft/keyspace.ts";
import { type RouteEntry, type RoutingTable, routeKey } from "../src/multiraft/routing.ts";
import { createRng } from "../src/shared/rng.ts";

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
}

const entryCount = option("--entries", 10_000);
const lookupCount = option("--lookups", 200_000);
const rng = createRng(42);
const name = (index: number): string => `k${index.toString().padStart(6, "0")}`;

// Legacy: half prefix entries ("k000123/"), half range entries ([k000124, k000125)), all disjoint.
const legacyEntries: RouteEntry[] = Array.from({ length: entryCount }, (_, index) =>
  index % 2 === 0
    ? { kind: "prefix", prefix: `${name(index)}/`, group: `g${index}` }
    : { kind: "range", start: name(index), end: name(index + 1), group: `g${index}` },
);
const legacy: RoutingTable = { epoch: 1, entries: legacyEntries };
const table: RangeTable = fromLegacyRouting(legacy);
const keys = Array.from({ length: lookupCount }, () => `${name(rng.int(entryCount))}/${rng.int(1000)}`);

/** Times `lookup` over the first `count` keys after a warm-up; returns nanoseconds per lookup. */
function time(label: string, count: number, lookup: (key: string) => string): number {
  const measured = keys.slice(0, count);
  let checksum = 0;
  for (const key of keys.slice(0, 1_000)) checksum += lookup(key).length;
  const started = performance.now();
  for (const key of measured) checksum += lookup(key).length;
  const elapsedMs = performance.now() - started;
  const nanosecondsPerLookup = (elapsedMs * 1e6) / measured.length;
  console.log(`${label.padEnd(40)} ${nanosecondsPerLookup.toFixed(0).padStart(8)} ns/lookup over ${measured.length} keys (checksum ${checksum})`);
  return nanosecondsPerLookup;
}

for (const key of keys.slice(0, 1_000)) {
  if (lookupKey(table, key).group !== routeKey(legacy, key)) throw new Error(`disagreement on ${key}`);
}
console.log(`legacy entries ${legacy.entries.length}, range table ranges ${table.ranges.length}, lookups ${keys.length}`);
const binary = time("lookupKey (binary search, range mode)", keys.length, (key) => lookupKey(table, key).group);
const linear = time("legacy routeKey (linear scan)", Math.ceil(keys.length / 20), (key) => routeKey(legacy, key));
const hashed = hashedTable(Array.from({ length: 64 }, (_, index) => `h${index}`));
time("lookupKey (hash mode, 64 groups)", keys.length, (key) => lookupKey(hashed, key).group);
console.log(`speed-up of lookupKey over routeKey: ${(linear / binary).toFixed(0)}x`);
