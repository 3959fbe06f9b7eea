/**
 * What a scan page meets of other transactions: the write intents on keys the page covers. A page
 * read past such an intent could show a key's old value after its transaction committed (its
 * resolve not yet applied here), or half of a transaction; so, as a get does, the page is refused
 * with intentFound and the reader resolves the intents through their records and reads again.
 * Read locks (intents without a write) change no value and do not block readers.
 */
import { compareKeys } from "./key-order.ts";
import { scanSpanOf, spanContains } from "./span.ts";
import type { IntentFound } from "./result.ts";
import type { TxnTable } from "./txn-state.ts";

/** The positions a page covers: the scan's span, cut at the page's cursor (exclusive) when more may follow. */
export interface PageCover {
  readonly start?: string;
  readonly end?: string;
  readonly prefix?: string;
  readonly cursor?: string;
  /** The cursor the page returned (the first key it did not cover), or undefined when the page ended the span. */
  readonly pageCursor?: string;
}

/** The write intents on keys `cover` holds that `serves` accepts, as intentFound (keys in order), or undefined when there are none. */
export function intentsInPage(table: TxnTable, cover: PageCover, serves: (key: string) => boolean): IntentFound | undefined {
  if (table.intents.size === 0) return undefined;
  const span = scanSpanOf(cover);
  const met: IntentFound["intents"][number][] = [];
  for (const [key, intent] of table.intents) {
    if (intent.write === undefined || !spanContains(span, key) || !serves(key)) continue;
    if (cover.pageCursor !== undefined && compareKeys(key, cover.pageCursor) >= 0) continue;
    met.push({ key, txn: intent.txn, recordKey: intent.recordKey, deadlineMs: intent.deadlineMs });
  }
  if (met.length === 0) return undefined;
  met.sort((left, right) => compareKeys(left.key, right.key));
  return { ok: false, code: "intentFound", intents: met };
}
