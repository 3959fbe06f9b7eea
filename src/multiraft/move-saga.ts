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
 */
import type { RangeChange } from "../kv/command.ts";
import type { Span } from "../kv/span.ts";
import { assert } from "../shared/assert.ts";

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
}

/** What the driver must do next. */
export type MoveAction =
  /** Propose `change` in `group` and report whether it applied or was refused. */
  | { readonly kind: "propose"; readonly group: string; readonly change: RangeChange }
  /** Read one page of the frozen span at `from` (from `cursor`) and propose it as an install in `to`. */
  | { readonly kind: "copy"; readonly from: string; readonly to: string; readonly saga: string; readonly span: Span; readonly cursor?: string }
  /** Assign the span to `to` in the metadata group's range table (idempotent). */
  | { readonly kind: "route"; readonly span: Span; readonly to: string }
  /** Nothing: the saga is over (done or rolled back). */
  | { readonly kind: "finished"; readonly committed: boolean };

/** What carrying out an action gave. */
export type MoveOutcome =
  | { readonly kind: "applied" }
  | { readonly kind: "refused"; readonly reason: string }
  | { readonly kind: "copied"; readonly records: number; readonly cursor?: string }
  | { readonly kind: "routed" };

/** A new saga, before any step. */
export function startMove(id: string, span: Span, from: string, to: string): MoveSaga {
  assert(from !== to, "a move goes to another group");
  return { id, span, from, to, phase: "freeze", copied: 0 };
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
      return { kind: "route", span, to };
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
