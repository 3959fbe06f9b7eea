/**
 * The saga that moves a span of the keyspace from one group to another: the one primitive behind
 * split (move to a new group), merge (move everything to the neighbour, then remove the group),
 * moving a range, and creating a prefix group over existing keys. Pure step functions: a driver
 * (the metadata group's leader, a router, or the simulator) asks nextAction, carries it out,
 * reports the outcome to advance, and records the new saga state in the metadata group before
 * the next step. Every action is idempotent, so a driver that crashed anywhere resumes by doing
 * the recorded phase's action again.
 *
 * The decision is made in the source group's log: `release` (commit) and `unfreeze` (roll back)
 * exclude each other there, and the target acts only after the source decided: `acquire` after a
 * release, `abortInstall` after an unfreeze. So two drivers racing on one saga cannot commit it in
 * one group and roll it back in the other.
 *
 * The route step (the range table's write in the metadata group) is the one step that does not
 * act on a group's log, so it cannot be fenced there; a driver that stalled after it and wakes
 * after the span moved on must not give the span back to a group that handed it on. The step
 * therefore names only the group that serves the span now, in three moves (routedTable):
 *   1. read the table and its version `v`;
 *   2. then read the target's ownership linearizably (a ReadIndex round in the target group);
 *   3. write the table with the parts of the span the target serves at (2) given to it, by
 *      compare-and-set on `v`, ALWAYS, also when nothing changes (the version must move).
 * Claim: once every saga has finished and no driver still acts, every key's entry names the group
 * that serves it. Take a key k. If no saga ever moved k, every route writes k only to a group that
 * served it at (2), its one owner. Else let T be the saga of k's last `acquire` (into group G, at
 * time a). T is done, so one of its route steps wrote (W_T, whose read (1) came after a, as T
 * routes only after its acquire applied); at its (2) G served k, so W_T named G. Any later
 * successful write W read the table at (1) after W_T's write (a compare-and-set on a version from
 * before W_T would fail), so its (2) came after a too, when G served k: it names G or leaves k.
 * Writing when nothing changes matters: a route that found k already named for its target and
 * skipped its write would not fence an older route that read the table before it (U: C -> B read
 * the table, B served k; then T: B -> C released and routed nothing new; U's write then succeeded
 * and named B). ABA (the span moved away from the target and back) needs no special case: the
 * step looks at who serves the span, not at which saga moved it, and a route that names the
 * target after the span came back names the right group. Guarding the step with the saga record
 * instead (route and "done" in one metadata batch, conditioned on the record's version) stops a
 * stale driver of the SAME saga, but not a saga planned from a table read long ago that freezes
 * the span in its old owner after it came back (A -> X -> A): X -> A, not yet routed, is then
 * routed after A -> C was, naming A for a span C serves.
 */
import type { RangeChange } from "../kv/command.ts";
import { spanIntersection, type Span } from "../kv/span.ts";
import { assert } from "../shared/assert.ts";
import { assignSpan, type RangeTable } from "./keyspace.ts";

/** Where a move saga is. Forward: freeze, copy, release, acquire, route, done. Back: unfreeze, abort, rolledBack. */
export type MovePhase = "freeze" | "copy" | "release" | "acquire" | "route" | "done" | "unfreeze" | "abort" | "rolledBack";

/** A move of `span` from group `from` to group `to`, as recorded in the metadata group. */
export interface MoveSaga {
  readonly id: string;
  readonly span: Span;
  readonly from: string;
  readonly to: string;
  readonly phase: MovePhase;
  /** During copy: where the next page starts (undefined: the first page). */
  readonly cursor?: string;
  /** Records copied so far (for people; pages may be copied twice after a crash). */
  readonly copied: number;
  /** Why it rolled back, when it did. */
  readonly reason?: string;
  /** The metadata record holding the range table the span belongs to (absent: the shared keyspace's). */
  readonly table?: string;
}

/** What the driver must do next. */
export type MoveAction =
  /** Propose `change` in `group` and report whether it applied or was refused. */
  | { readonly kind: "propose"; readonly group: string; readonly change: RangeChange }
  /** Read one page of the frozen span at `from` (from `cursor`) and propose it as an install in `to`. */
  | { readonly kind: "copy"; readonly from: string; readonly to: string; readonly saga: string; readonly span: Span; readonly cursor?: string }
  /**
   * Read the metadata group's range table `table`, then what `to` serves (linearizably), then write
   * routedTable(...) by compare-and-set on the version read, also when unchanged; report routed.
   */
  | { readonly kind: "route"; readonly span: Span; readonly to: string; readonly table: string }
  /** Nothing: the saga is over (done or rolled back). */
  | { readonly kind: "finished"; readonly committed: boolean };

/** What carrying out an action gave. */
export type MoveOutcome =
  | { readonly kind: "applied" }
  | { readonly kind: "refused"; readonly reason: string }
  | { readonly kind: "copied"; readonly records: number; readonly cursor?: string }
  | { readonly kind: "routed" };

/** The metadata record of the shared keyspace's range table. */
export const sharedTableRecord = "keyspace";

/** A new saga, before any step; `table` names the range table's record when it is not the shared keyspace's. */
export function startMove(id: string, span: Span, from: string, to: string, table?: string): MoveSaga {
  assert(from !== to, "a move goes to another group");
  const saga: MoveSaga = { id, span, from, to, phase: "freeze", copied: 0 };
  return table === undefined || table === sharedTableRecord ? saga : { ...saga, table };
}

/** The action of the saga's current phase. */
export function nextAction(saga: MoveSaga): MoveAction {
  const { id, span, from, to } = saga;
  switch (saga.phase) {
    case "freeze":
      return { kind: "propose", group: from, change: { action: "freeze", saga: id, span } };
    case "copy":
      return { kind: "copy", from, to, saga: id, span, ...(saga.cursor === undefined ? {} : { cursor: saga.cursor }) };
    case "release":
      return { kind: "propose", group: from, change: { action: "release", saga: id, span, to } };
    case "acquire":
      return { kind: "propose", group: to, change: { action: "acquire", saga: id, span } };
    case "route":
      return { kind: "route", span, to, table: saga.table ?? sharedTableRecord };
    case "unfreeze":
      return { kind: "propose", group: from, change: { action: "unfreeze", saga: id } };
    case "abort":
      return { kind: "propose", group: to, change: { action: "abortInstall", saga: id } };
    case "done":
      return { kind: "finished", committed: true };
    case "rolledBack":
      return { kind: "finished", committed: false };
  }
}

/**
 * The saga after `outcome` of its current action. A refusal before the commit point rolls back; a
 * refusal after it (the target refusing to acquire what it installed) is a bug that the saga cannot
 * undo, so it is asserted.
 */
export function advance(saga: MoveSaga, outcome: MoveOutcome): MoveSaga {
  if (outcome.kind === "refused") return refusedAt(saga, outcome.reason);
  switch (saga.phase) {
    case "freeze":
      return expecting(saga, outcome, "applied", { phase: "copy" });
    case "copy": {
      assert(outcome.kind === "copied", "a copy step reports what it copied");
      const copied = saga.copied + outcome.records;
      if (outcome.cursor !== undefined) return { ...saga, cursor: outcome.cursor, copied };
      return withoutCursor({ ...saga, phase: "release", copied });
    }
    case "release":
      return expecting(saga, outcome, "applied", { phase: "acquire" });
    case "acquire":
      return expecting(saga, outcome, "applied", { phase: "route" });
    case "route":
      return expecting(saga, outcome, "routed", { phase: "done" });
    case "unfreeze":
      return expecting(saga, outcome, "applied", { phase: "abort" });
    case "abort":
      return expecting(saga, outcome, "applied", { phase: "rolledBack" });
    case "done":
    case "rolledBack":
      return saga;
  }
}

/**
 * The table a route step writes: `table` (read first) with every part of `span` that `to` serves
 * (`served`: its ownership's spans, read linearizably after the table) given to `to`; parts it
 * does not serve (moved on since, or not acquired yet) keep their entries. See the header.
 */
export function routedTable(table: RangeTable, span: Span, to: string, served: readonly Span[]): RangeTable {
  let next = table;
  for (const owned of served) {
    const piece = spanIntersection(owned, span);
    if (piece !== undefined) next = assignSpan(next, piece, to);
  }
  return next;
}

/** Asks a saga that has not passed its commit point to roll back (an operator's cancel, or a copy that cannot finish). */
export function rollBack(saga: MoveSaga, reason: string): MoveSaga {
  if (saga.phase !== "freeze" && saga.phase !== "copy") return saga;
  return withoutCursor({ ...saga, phase: "unfreeze", reason });
}

/** Whether the saga has ended, committed or not. */
export function isFinished(saga: MoveSaga): boolean {
  return saga.phase === "done" || saga.phase === "rolledBack";
}

function refusedAt(saga: MoveSaga, reason: string): MoveSaga {
  switch (saga.phase) {
    case "freeze":
      // Nothing was frozen; still lift any freeze and clean the target in case an earlier attempt did.
      return { ...saga, phase: "unfreeze", reason };
    case "copy":
      return rollBack(saga, reason);
    case "release":
      // The source refused to commit: it no longer holds our freeze (a racing driver rolled back).
      return withoutCursor({ ...saga, phase: "unfreeze", reason });
    case "unfreeze":
      // The source refused to roll back: it already released (a racing driver committed). Go forward.
      return { ...saga, phase: "acquire" };
    default:
      throw new Error(`move ${saga.id}: ${saga.phase} was refused after the commit point: ${reason}`);
  }
}

function expecting(saga: MoveSaga, outcome: MoveOutcome, kind: MoveOutcome["kind"], next: Partial<MoveSaga>): MoveSaga {
  assert(outcome.kind === kind, `move ${saga.id} in ${saga.phase} expects ${kind}, got ${outcome.kind}`);
  return { ...saga, ...next };
}

function withoutCursor(saga: MoveSaga): MoveSaga {
  if (saga.cursor === undefined) return saga;
  const { cursor: _cursor, ...rest } = saga;
  return rest;
}
