/**
 * Ordered, paged scans across groups. In the shared keyspace the range table cuts the scanned span
 * into the ranges that own it, in key order; each is read from its group (a few at a time, in
 * parallel) and the pages are joined in order until the page is full. The cursor is the key after
 * the last one returned, so a range that moves between two pages is read from its new group.
 */
import { keySuccessor } from "../../kv/key-order.ts";
import { scanSpanOf, spanIsEmpty } from "../../kv/span.ts";
import type { KvEntry } from "../../kv/store.ts";
import { entriesWithin, type RangeEntry } from "../../multiraft/keyspace.ts";
import type { ClusterResult, Consistency, Keyspace, ScanResult } from "../cluster.ts";
import type { GroupIo, GroupResult } from "./group-io.ts";
import type { Groups } from "./groups.ts";

/** Ranges read in parallel per round of a scan. */
const scanFanOut = 8;
/** How long a scan waits for moving ranges before answering unavailable, in milliseconds. */
const scanWaitMs = 10_000;

/** What a scan needs from the cluster client. */
export interface ScanContext {
  readonly groups: Groups;
  readonly io: GroupIo;
  waitForMove(attempt: number): Promise<void>;
}

/** A scan request as the HTTP layer passes it. */
export interface ScanRequestOptions {
  prefix?: string;
  start?: string;
  end?: string;
  limit: number;
  cursor?: string;
}

type Attempt = { done: true; result: ClusterResult<ScanResult> } | { done: false };

/** One page of a scan of `keyspace`. */
export async function scanKeyspace(context: ScanContext, keyspace: Keyspace, request: ScanRequestOptions, consistency: Consistency): Promise<ClusterResult<ScanResult>> {
  const deadline = Date.now() + scanWaitMs;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const outcome = keyspace.kind === "tenant" ? await tenantPage(context, keyspace.tenant, request, consistency) : await sharedPage(context, request, consistency);
    if (outcome.done) return outcome.result;
    context.groups.invalidate();
    await context.waitForMove(attempt);
  }
  return { ok: false, error: { code: "unavailable", detail: "ranges kept moving during the scan; try again" } };
}

async function tenantPage(context: ScanContext, tenant: string, request: ScanRequestOptions, consistency: Consistency): Promise<Attempt> {
  const group = await context.groups.tenant(tenant);
  if (!group.ok) return { done: true, result: group };
  const page = await context.io.scan(group.value, request, consistency);
  if (!page.ok) return "error" in page ? { done: true, result: { ok: false, error: page.error } } : { done: false };
  return { done: true, result: { ok: true, value: page.value } };
}

async function sharedPage(context: ScanContext, request: ScanRequestOptions, consistency: Consistency): Promise<Attempt> {
  const table = await context.groups.keyspace();
  if (!table.ok) return { done: true, result: table };
  const span = scanSpanOf(request);
  if (spanIsEmpty(span)) return { done: true, result: { ok: true, value: { entries: [] } } };
  const ranges = entriesWithin(table.value, span);
  const collected: KvEntry[] = [];
  for (let first = 0; first < ranges.length; first += scanFanOut) {
    const wanted = request.limit - collected.length;
    const pages = await Promise.all(ranges.slice(first, first + scanFanOut).map((range) => readRange(context, range, request.prefix, wanted, consistency)));
    for (const page of pages) {
      if (!page.ok) return "error" in page ? { done: true, result: { ok: false, error: page.error } } : { done: false };
      collected.push(...page.value.entries);
      if (collected.length >= request.limit || page.value.cursor !== undefined) return { done: true, result: { ok: true, value: pageOf(collected, request.limit) } };
    }
  }
  return { done: true, result: { ok: true, value: { entries: collected } } };
}

async function readRange(context: ScanContext, range: RangeEntry, prefix: string | undefined, limit: number, consistency: Consistency): Promise<GroupResult<{ entries: KvEntry[]; cursor?: string }>> {
  const group = await context.groups.activeGroup(range.group);
  if (!group.ok) return group.error.code === "groupNotFound" ? { ok: false, stale: true } : group;
  const bounds = { start: range.start, ...(range.end === undefined ? {} : { end: range.end }), ...(prefix === undefined ? {} : { prefix }) };
  return context.io.scan(group.value, { ...bounds, limit }, consistency);
}

/** The first `limit` entries, with a cursor after the last (more may follow). */
function pageOf(entries: KvEntry[], limit: number): ScanResult {
  const kept = entries.slice(0, limit);
  const last = kept[kept.length - 1];
  return last === undefined ? { entries: kept } : { entries: kept, cursor: keySuccessor(last.key) };
}
