/**
 * Ordered, paged scans across groups. In the shared keyspace the range table cuts the scanned span
 * into the ranges that own it, in key order; each is read from its group (a few at a time, in
 * parallel) and the pages are joined in order until the page is full. The cursor is the key after
 * the last one returned, so a range that moves between two pages is read from its new group.
 *
 * Transactions: a group refuses a page that covers another transaction's write intent (its key may
 * hold a committed value not yet resolved there); the scan settles those intents through their
 * records, as a get does, and reads again. And a page read from more than one group is a snapshot:
 * it is read again until two reads in a row agree on every key and version (and the cursor); the
 * second began after the first ended, so every range held what both show at the instant between
 * them, and no transaction shows half. (A key that appeared and vanished between the two reads is
 * not seen: versions cannot tell it.) Stale scans skip that check: their reads are old anyway.
 */
import { compareKeys, keySuccessor } from "../../kv/key-order.ts";
import { scanSpanOf, spanIsEmpty } from "../../kv/span.ts";
import type { KvEntry } from "../../kv/store.ts";
import { entriesWithin, groupsOf, type RangeEntry } from "../../multiraft/keyspace.ts";
import type { ClusterResult, Consistency, Keyspace, ScanResult } from "../cluster.ts";
import type { GroupIo, GroupResult } from "./group-io.ts";
import type { Groups } from "./groups.ts";
import type { GroupRecord } from "./metadata.ts";
import type { IntentInfo } from "./txn-driver.ts";

/** Ranges read in parallel per round of a scan. */
const scanFanOut = 8;
/** How long a scan waits for moving ranges before answering unavailable, in milliseconds. */
const scanWaitMs = 10_000;

/** What a scan needs from the cluster client. */
export interface ScanContext {
  readonly groups: Groups;
  readonly io: GroupIo;
  waitForMove(attempt: number): Promise<void>;
  /** Resolves the intents a page met in `group` whose transactions are decided (pushing their records); whether any was resolved. */
  settle(keyspace: Keyspace, group: GroupRecord, intents: readonly IntentInfo[]): Promise<boolean>;
  sleep(ms: number): Promise<void>;
}

/** A scan request as the HTTP layer passes it. */
export interface ScanRequestOptions {
  prefix?: string;
  start?: string;
  end?: string;
  limit: number;
  cursor?: string;
}

/** One read of a page: the page and how many group reads made it, or a reason to read again (ranges moved, or intents met in `group`). */
type Attempt =
  | { done: true; result: ClusterResult<ScanResult>; reads: number }
  | { done: false }
  | { done: false; group: GroupRecord; intents: readonly IntentInfo[] };

/** One page of a scan of `keyspace`. */
export async function scanKeyspace(context: ScanContext, keyspace: Keyspace, request: ScanRequestOptions, consistency: Consistency): Promise<ClusterResult<ScanResult>> {
  const deadline = Date.now() + scanWaitMs;
  let previous: ScanResult | undefined; // the last page read from several groups, for the snapshot check
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const outcome = keyspace.kind === "tenant" ? await tenantPage(context, keyspace.tenant, request, consistency) : await sharedPage(context, request, consistency);
    if (outcome.done) {
      const { result } = outcome;
      if (!result.ok || outcome.reads <= 1 || consistency === "stale" || (previous !== undefined && samePage(previous, result.value))) return result;
      if (previous !== undefined) await context.sleep(backoffMs(attempt)); // the span is busy: read again, not at once
      previous = result.value;
      continue;
    }
    if ("intents" in outcome) {
      if (!(await context.settle(keyspace, outcome.group, outcome.intents))) await context.sleep(backoffMs(attempt));
      continue;
    }
    context.groups.invalidate();
    await context.waitForMove(attempt);
  }
  const detail = previous === undefined ? "ranges kept moving during the scan; try again" : "the scanned keys kept changing between two reads of the page; try again";
  return { ok: false, error: { code: "unavailable", detail } };
}

/** A short random wait before reading a busy span again, growing with the attempts (at most 100 ms). */
function backoffMs(attempt: number): number {
  return Math.min(100, 5 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2);
}

/** Whether two pages hold the same keys at the same versions and end at the same cursor. */
function samePage(left: ScanResult, right: ScanResult): boolean {
  if (left.cursor !== right.cursor || left.entries.length !== right.entries.length) return false;
  return left.entries.every((entry, index) => entry.key === right.entries[index]!.key && entry.version === right.entries[index]!.version);
}

/** The Attempt for a group's failed read: an error ends the scan; intents and moves read again. */
function retryOf(page: Exclude<GroupResult<unknown>, { ok: true }>, group: GroupRecord | undefined): Attempt {
  if ("error" in page) return { done: true, result: { ok: false, error: page.error }, reads: 0 };
  if ("intents" in page && group !== undefined) return { done: false, group, intents: page.intents };
  return { done: false };
}

async function tenantPage(context: ScanContext, tenant: string, request: ScanRequestOptions, consistency: Consistency): Promise<Attempt> {
  const hashed = await context.groups.tenantTable(tenant);
  if (!hashed.ok) return { done: true, result: hashed, reads: 0 };
  if (hashed.value !== undefined) return hashedPage(context, groupsOf(hashed.value), request, consistency);
  const group = await context.groups.tenant(tenant);
  if (!group.ok) return { done: true, result: group, reads: 0 };
  const page = await context.io.scan(group.value, request, consistency);
  if (!page.ok) return retryOf(page, group.value);
  return { done: true, result: { ok: true, value: page.value }, reads: 1 };
}

async function sharedPage(context: ScanContext, request: ScanRequestOptions, consistency: Consistency): Promise<Attempt> {
  const table = await context.groups.keyspace();
  if (!table.ok) return { done: true, result: table, reads: 0 };
  const span = scanSpanOf(request);
  if (spanIsEmpty(span)) return { done: true, result: { ok: true, value: { entries: [] } }, reads: 0 };
  const ranges = entriesWithin(table.value, span);
  const collected: KvEntry[] = [];
  let reads = 0; // the range reads the page is made of (those read in parallel past a full page do not count)
  for (let first = 0; first < ranges.length; first += scanFanOut) {
    const wanted = request.limit - collected.length;
    const pages = await Promise.all(ranges.slice(first, first + scanFanOut).map((range) => readRange(context, range, request.prefix, wanted, consistency)));
    for (const { group, page } of pages) {
      if (!page.ok) return retryOf(page, group);
      reads++;
      collected.push(...page.value.entries);
      if (collected.length >= request.limit || page.value.cursor !== undefined) return { done: true, result: { ok: true, value: pageOf(collected, request.limit) }, reads };
    }
  }
  return { done: true, result: { ok: true, value: { entries: collected } }, reads };
}

/**
 * A page of a hashed keyspace: every group holds keys of the whole key range (its slots), so each
 * is asked for a page of the same range and the pages are merged in key order. A group that filled
 * its page may hold more keys from its cursor on, so the merged page stops before the smallest such
 * cursor: nothing before it is missing, and every group resumes there.
 */
async function hashedPage(context: ScanContext, groups: readonly string[], request: ScanRequestOptions, consistency: Consistency): Promise<Attempt> {
  const pages = await Promise.all(groups.map((name) => readGroup(context, name, request, consistency)));
  const entries: KvEntry[] = [];
  let bound: string | undefined; // every group returned all its keys before this one
  for (const { group, page } of pages) {
    if (!page.ok) return retryOf(page, group);
    entries.push(...page.value.entries);
    const cursor = page.value.cursor;
    if (cursor !== undefined && (bound === undefined || compareKeys(cursor, bound) < 0)) bound = cursor;
  }
  entries.sort((a, b) => compareKeys(a.key, b.key));
  const known = bound === undefined ? entries : entries.filter((entry) => compareKeys(entry.key, bound) < 0);
  const reads = pages.length;
  if (known.length > request.limit) return { done: true, result: { ok: true, value: pageOf(known, request.limit) }, reads };
  return { done: true, result: { ok: true, value: bound === undefined ? { entries: known } : { entries: known, cursor: bound } }, reads };
}

/** A group's page and the group read (undefined when it could not be found). */
type GroupPage = { group: GroupRecord | undefined; page: GroupResult<{ entries: KvEntry[]; cursor?: string }> };

function readRange(context: ScanContext, range: RangeEntry, prefix: string | undefined, limit: number, consistency: Consistency): Promise<GroupPage> {
  const bounds = { start: range.start, ...(range.end === undefined ? {} : { end: range.end }), ...(prefix === undefined ? {} : { prefix }) };
  return readGroup(context, range.group, { ...bounds, limit }, consistency);
}

async function readGroup(context: ScanContext, name: string, request: ScanRequestOptions, consistency: Consistency): Promise<GroupPage> {
  const group = await context.groups.activeGroup(name);
  if (!group.ok) return { group: undefined, page: group.error.code === "groupNotFound" ? { ok: false, stale: true } : group };
  return { group: group.value, page: await context.io.scan(group.value, request, consistency) };
}

/** The first `limit` entries, with a cursor after the last (more may follow). */
function pageOf(entries: KvEntry[], limit: number): ScanResult {
  const kept = entries.slice(0, limit);
  const last = kept[kept.length - 1];
  return last === undefined ? { entries: kept } : { entries: kept, cursor: keySuccessor(last.key) };
}
