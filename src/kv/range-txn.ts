/**
 * The transaction state of a span as a move carries it (TiKV moves a region's locks with its data;
 * CockroachDB's intents are data of their range): the intents on the span's keys and the transaction
 * records whose record key lies in the span travel in the install pages, in key order beside the
 * records; the source's ended transactions ride on the first page. Release deletes them from the
 * source, abortInstall from the target. Pure and deterministic, like the state machine.
 */
import { txnRecordsMax } from "../shared/limits.ts";
import { compareKeys } from "./key-order.ts";
import { positionOf, spanContains, type KeyspaceMode, type Span } from "./span.ts";
import { TxnTable, type Intent, type TxnRecord, type TxnStateJson } from "./txn-state.ts";

/** One piece of a span's transaction state, at the key that places it in the span's key order. */
export type SpanTxnItem = { readonly key: string; readonly bytes: number } & ({ readonly intent: Intent } | { readonly txn: string; readonly record: TxnRecord });

/** The intents and records of `span` in `table` at keys from `cursor` on (inclusive), in key order; records ordered by their record key. */
export function txnItemsIn(table: TxnTable, mode: KeyspaceMode, span: Span, cursor: string | undefined): SpanTxnItem[] {
  const inPage = (key: string) => spanContains(span, positionOf(mode, key)) && (cursor === undefined || compareKeys(key, cursor) >= 0);
  const items: SpanTxnItem[] = [];
  for (const [key, intent] of table.intents) {
    if (inPage(key)) items.push({ key, bytes: intent.write?.type === "put" ? intent.write.value.length : 0, intent });
  }
  for (const [txn, record] of table.records) {
    if (inPage(record.recordKey)) items.push({ key: record.recordKey, bytes: 0, txn, record });
  }
  return items.sort((left, right) => compareKeys(left.key, right.key));
}

/** The JSON an install carries for `items` (and, on a first page, the source's ended transactions); undefined when there is nothing. */
export function txnPageJson(items: readonly SpanTxnItem[], ended: ReadonlyMap<string, boolean> | undefined): TxnStateJson | undefined {
  const page = new TxnTable();
  for (const item of items) {
    if ("intent" in item) page.lay(item.key, item.intent);
    else page.records.set(item.txn, item.record);
  }
  for (const [txn, committed] of ended ?? []) page.ended.set(txn, committed);
  return page.toJson();
}

/**
 * Adds the transaction state an install page carries to `table` (the target's), or says why it
 * cannot: malformed, outside the span, clashing with state already here, or past the limits. Nothing
 * changes when it cannot. `versionFloor` bounds the intents' reserved versions, as it bounds records'.
 */
export function installTxnState(table: TxnTable, mode: KeyspaceMode, span: Span, json: unknown, versionFloor: number): string | undefined {
  if (json === undefined) return undefined;
  const incoming = TxnTable.fromJson(json, versionFloor);
  if (typeof incoming === "string") return `the install's transaction state is malformed: ${incoming}`;
  const inSpan = (key: string) => spanContains(span, positionOf(mode, key));
  let freshIntents = 0;
  let freshBytes = 0;
  for (const [key, intent] of incoming.intents) {
    if (!inSpan(key)) return "an installed intent lies outside the span";
    const existing = table.intents.get(key);
    if (existing !== undefined && existing.txn !== intent.txn) return "an installed intent meets another transaction's intent";
    if (existing !== undefined) continue; // a repeated page
    freshIntents++;
    freshBytes += intent.write?.type === "put" ? intent.write.value.length : 0;
  }
  let freshRecords = 0;
  for (const [txn, record] of incoming.records) {
    if (!inSpan(record.recordKey)) return "an installed transaction record lies outside the span";
    if (!table.records.has(txn)) freshRecords++;
  }
  if (!table.fits(freshIntents, freshBytes) || table.records.size + freshRecords > txnRecordsMax) return "the target group holds too many intents or transaction records";
  for (const [key, intent] of incoming.intents) table.lay(key, intent);
  for (const [txn, record] of incoming.records) if (!table.records.has(txn)) table.records.set(txn, record);
  for (const [txn, committed] of incoming.ended) if (!table.ended.has(txn)) table.end(txn, committed);
  return undefined;
}

/** Deletes the intents on `span`'s keys and the records whose record key lies in it (a release in the source, an abortInstall in the target). */
export function dropTxnState(table: TxnTable, mode: KeyspaceMode, span: Span): void {
  const inSpan = (key: string) => spanContains(span, positionOf(mode, key));
  for (const key of [...table.intents.keys()]) if (inSpan(key)) table.drop(key);
  for (const [txn, record] of [...table.records]) if (inSpan(record.recordKey)) table.records.delete(txn);
}
