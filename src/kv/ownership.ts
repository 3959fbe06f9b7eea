/**
 * What a group owns, as replicated state of its KV state machine: changed only by range commands in
 * the group's log, so every replica of a group agrees on it at every index. A range moves between
 * groups as a saga of these commands (TiKV region / CockroachDB range descriptor in spirit):
 *
 *   source: freeze(span)            writes to the span are refused with rangeFrozen (retryable)
 *   target: install(span, pages)    the span's records arrive; the target does not serve them yet
 *   source: release(span, to)       the commit point: the source forgets the span and its records
 *   target: acquire(span)           the target serves the span
 *
 * Before release the saga can roll back (target: abortInstall, source: unfreeze). Every command is
 * idempotent, so a driver that crashed and resumes may repeat any of them. At no index do two
 * groups both serve a key: the source stops at release, the target starts at acquire, after it.
 */
import { assert } from "../shared/assert.ts";
import { compareKeys } from "./key-order.ts";
import type { KeyRefusal } from "./result.ts";
import { normalizeSpans, positionOf, spanContains, spanSubtract, spansCover, spansOverlap, type KeyspaceMode, type Span } from "./span.ts";

/** Most "moved to" hints, and most ended sagas, a group remembers (oldest forgotten first). */
export const departedHintsMax = 64;

/** A span frozen or being installed by one saga. */
export interface SagaSpan {
  readonly span: Span;
  readonly saga: string;
}

/** A span this group gave away: where it went, at which of this group's epochs. */
export interface DepartedSpan {
  readonly span: Span;
  readonly to: string;
  readonly epoch: number;
}

/** A saga whose freeze here ended: released (committed) or unfrozen (rolled back). It cannot freeze again. */
export interface EndedSaga {
  readonly saga: string;
  readonly committed: boolean;
}

/**
 * A group's ownership. Invariants: `spans` normalized; every frozen span lies inside `spans`; no
 * incoming span overlaps `spans`; `epoch` grows by one with every change of `spans` or `frozen`.
 */
export interface RangeOwnership {
  readonly mode: KeyspaceMode;
  readonly epoch: number;
  readonly spans: readonly Span[];
  readonly frozen: readonly SagaSpan[];
  readonly incoming: readonly SagaSpan[];
  readonly departed: readonly DepartedSpan[];
  readonly ended: readonly EndedSaga[];
}


/** A new ownership of `spans` at epoch 1. */
export function initialOwnership(mode: KeyspaceMode, spans: readonly Span[]): RangeOwnership {
  return { mode, epoch: 1, spans: normalizeSpans(spans), frozen: [], incoming: [], departed: [], ended: [] };
}

/** Why `key` cannot be read here (undefined = it can). Frozen keys can still be read: nothing writes them. */
export function readRefusal(ownership: RangeOwnership | undefined, key: string): KeyRefusal | undefined {
  if (ownership === undefined) return undefined;
  const position = positionOf(ownership.mode, key);
  if (ownership.spans.some((span) => spanContains(span, position))) return undefined;
  return wrongRange(ownership, position);
}

/** Why `key` cannot be written here (undefined = it can). */
export function writeRefusal(ownership: RangeOwnership | undefined, key: string): KeyRefusal | undefined {
  const refusal = readRefusal(ownership, key);
  if (refusal !== undefined || ownership === undefined) return refusal;
  const position = positionOf(ownership.mode, key);
  if (ownership.frozen.some((frozen) => spanContains(frozen.span, position))) return { ok: false, code: "rangeFrozen", epoch: ownership.epoch };
  return undefined;
}

/** Why a scan of `span` (range mode: positions are keys) cannot be served here (undefined = every key of it is ours). */
export function scanRefusal(ownership: RangeOwnership | undefined, span: Span): KeyRefusal | undefined {
  const empty = span.end !== undefined && compareKeys(span.start, span.end) >= 0;
  if (ownership === undefined || empty || spansCover(ownership.spans, span)) return undefined;
  return wrongRange(ownership, span.start);
}

/** Whether a stored record at `key` belongs to this group's served state (not an incoming, unacquired record). */
export function servesKey(ownership: RangeOwnership | undefined, key: string): boolean {
  return readRefusal(ownership, key) === undefined;
}

function wrongRange(ownership: RangeOwnership, position: string): KeyRefusal {
  for (let index = ownership.departed.length - 1; index >= 0; index--) {
    const departed = ownership.departed[index]!;
    if (spanContains(departed.span, position)) return { ok: false, code: "wrongRange", epoch: ownership.epoch, movedTo: departed.to };
  }
  return { ok: false, code: "wrongRange", epoch: ownership.epoch };
}

/** The outcome of a range command: the new ownership, or why it was refused (state unchanged). */
export type OwnershipStep = { readonly ok: true; readonly ownership: RangeOwnership } | { readonly ok: false; readonly reason: string };

/** Freezes `span` for `saga`; it must lie inside what the group owns and not be frozen by another saga. */
export function freeze(ownership: RangeOwnership, saga: string, span: Span): OwnershipStep {
  if (ownership.frozen.some((frozen) => frozen.saga === saga && sameSpan(frozen.span, span))) return { ok: true, ownership };
  if (ownership.ended.some((ended) => ended.saga === saga)) return refused("this operation already ended here");
  if (!spansCover(ownership.spans, span)) return refused("the span is not owned by this group");
  if (ownership.frozen.some((frozen) => spansOverlap(frozen.span, span))) return refused("the span overlaps a span another operation froze");
  return changed(ownership, { frozen: [...ownership.frozen, { span, saga }] });
}

/**
 * Lifts `saga`'s freeze: the rollback decision. Refused when the saga already released its span
 * here (it committed); a no-op when it holds no freeze. Either way the saga can never freeze again.
 */
export function unfreeze(ownership: RangeOwnership, saga: string): OwnershipStep {
  const ended = ownership.ended.find((entry) => entry.saga === saga);
  if (ended !== undefined) return ended.committed ? refused("this operation already released the span") : { ok: true, ownership };
  const frozen = ownership.frozen.filter((entry) => entry.saga !== saga);
  return changed(ownership, { frozen, ended: endedWith(ownership, saga, false) });
}

/**
 * Notes that `saga` installs records of `span` here. Valid when the span is disjoint from what the
 * group serves; `alreadyAcquired` when the saga's span is already served (a repeated install after
 * acquire: the caller must then write nothing).
 */
export function beginInstall(ownership: RangeOwnership, saga: string, span: Span): OwnershipStep & { alreadyAcquired?: boolean } {
  if (ownership.incoming.some((incoming) => incoming.saga === saga && sameSpan(incoming.span, span))) return { ok: true, ownership };
  if (spansCover(ownership.spans, span)) return { ok: true, ownership, alreadyAcquired: true };
  if (ownership.spans.some((owned) => spansOverlap(owned, span))) return refused("the span overlaps what this group owns");
  if (ownership.incoming.some((incoming) => spansOverlap(incoming.span, span))) return refused("another operation installs an overlapping span");
  return { ok: true, ownership: { ...ownership, incoming: [...ownership.incoming, { span, saga }] } };
}

/** The span `saga` was installing, if any (its records are to be deleted on abort). */
export function incomingSpanOf(ownership: RangeOwnership, saga: string): Span | undefined {
  return ownership.incoming.find((incoming) => incoming.saga === saga)?.span;
}

/** Forgets `saga`'s incoming span (after its records were deleted). */
export function abortInstall(ownership: RangeOwnership, saga: string): OwnershipStep {
  return { ok: true, ownership: { ...ownership, incoming: ownership.incoming.filter((incoming) => incoming.saga !== saga) } };
}

/** Starts serving `saga`'s installed span; a no-op when it is already served. */
export function acquire(ownership: RangeOwnership, saga: string, span: Span): OwnershipStep {
  if (spansCover(ownership.spans, span)) return { ok: true, ownership };
  const incoming = ownership.incoming.find((entry) => entry.saga === saga);
  if (incoming === undefined || !sameSpan(incoming.span, span)) return refused("the span was not installed by this operation");
  return changed(ownership, {
    spans: normalizeSpans([...ownership.spans, span]),
    incoming: ownership.incoming.filter((entry) => entry.saga !== saga),
  });
}

/**
 * Gives `span` away to `to`: the commit decision. The group stops serving it (the caller deletes its
 * records). Valid when `saga` froze exactly that span; a no-op when it already released it; refused
 * when the saga rolled back here.
 */
export function release(ownership: RangeOwnership, saga: string, span: Span, to: string): OwnershipStep {
  const ended = ownership.ended.find((entry) => entry.saga === saga);
  if (ended !== undefined) return ended.committed ? { ok: true, ownership } : refused("this operation was rolled back here");
  if (!ownership.frozen.some((frozen) => frozen.saga === saga && sameSpan(frozen.span, span))) return refused("the span is not frozen by this operation");
  const epoch = ownership.epoch + 1;
  const spans = normalizeSpans(ownership.spans.flatMap((owned) => spanSubtract(owned, span)));
  const departed = [...ownership.departed, { span, to, epoch }].slice(-departedHintsMax);
  const frozen = ownership.frozen.filter((entry) => entry.saga !== saga);
  return { ok: true, ownership: { ...ownership, epoch, spans, frozen, departed, ended: endedWith(ownership, saga, true) } };
}

/** Asserts the invariants of an ownership (after decoding, and after every change). */
export function assertOwnership(ownership: RangeOwnership): void {
  assert(Number.isSafeInteger(ownership.epoch) && ownership.epoch >= 1, "ownership epoch is a positive safe integer");
  assert(JSON.stringify(normalizeSpans(ownership.spans)) === JSON.stringify(ownership.spans), "owned spans are normalized");
  for (const frozen of ownership.frozen) assert(spansCover(ownership.spans, frozen.span), "a frozen span is owned");
  for (const incoming of ownership.incoming) {
    assert(!ownership.spans.some((owned) => spansOverlap(owned, incoming.span)), "an incoming span is not yet owned");
  }
  assert(ownership.departed.length <= departedHintsMax && ownership.ended.length <= departedHintsMax, "hints stay bounded");
}

function endedWith(ownership: RangeOwnership, saga: string, committed: boolean): EndedSaga[] {
  return [...ownership.ended, { saga, committed }].slice(-departedHintsMax);
}

function changed(ownership: RangeOwnership, fields: Partial<RangeOwnership>): OwnershipStep {
  return { ok: true, ownership: { ...ownership, ...fields, epoch: ownership.epoch + 1 } };
}

function refused(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

function sameSpan(a: Span, b: Span): boolean {
  return a.start === b.start && a.end === b.end;
}
