/**
 * Client requests waiting inside a replica: writes wait for their log entry to be applied, reads
 * wait for a read index and then for the state machine to reach it. Every waiter has a deadline
 * after which it is answered "unknown outcome" (the router then retries with the same session).
 */
import type { Entry, ReadState } from "../../raft/types.ts";
import type { ApplyResult } from "../../kv/result.ts";

type Unknown = { kind: "unknown"; reason: string };
type Answer = (value: unknown) => void;

interface EntryWaiter {
  term: number;
  deadlineMs: number;
  resolve: Answer;
}

interface ReadWaiter {
  deadlineMs: number;
  perform: () => unknown;
  resolve: Answer;
  /** Known once the read index arrived; the read runs when the state machine has applied it. */
  index: number | undefined;
}

/** What a driver pass owes the requests that wait, settled once the pass is stored (WaiterBook.settle). */
export interface PassAnswers {
  /** Entries applied, with their results (undefined: a no-op or a membership change). */
  readonly answered: [Entry, ApplyResult | undefined][];
  /** This replica stopped leading, or its leader changed. */
  leadershipLost: boolean;
}

/** The book of waiting requests of one replica. */
export class WaiterBook {
  private readonly entries = new Map<number, EntryWaiter>();
  private readonly reads = new Map<string, ReadWaiter>();
  private appliedIndex = 0;

  /** Requests waiting. */
  get size(): number {
    return this.entries.size + this.reads.size;
  }

  /**
   * Settles what a stored pass owes: its applied entries first, then a lost leadership (a leader
   * deposed in the pass that applied a write still answers it applied).
   */
  settle(pass: PassAnswers): void {
    for (const [entry, result] of pass.answered) this.entryApplied(entry, result);
    if (pass.leadershipLost) this.leadershipLost();
  }

  /** Waits for the entry proposed at (index, term) to be applied. */
  waitForEntry<T>(index: number, term: number, deadlineMs: number): Promise<T> {
    return new Promise<T>((resolve) => {
      this.entries.set(index, { term, deadlineMs, resolve: resolve as Answer });
    });
  }

  /** Waits for the read index of `context`, then for it to be applied, then runs `perform`. */
  waitForRead<T>(context: string, deadlineMs: number, perform: () => T): Promise<{ kind: "ok"; value: T } | Unknown> {
    return new Promise((resolve) => {
      this.reads.set(context, { deadlineMs, perform, resolve: resolve as Answer, index: undefined });
    });
  }

  /** An entry was applied with `result` (undefined for no-ops and configuration changes). */
  entryApplied(entry: Entry, result: ApplyResult | undefined): void {
    const waiter = this.entries.get(entry.index);
    if (waiter === undefined) return;
    this.entries.delete(entry.index);
    if (waiter.term !== entry.term) waiter.resolve({ kind: "unknown", reason: "the proposal was replaced by another leader's entry" });
    else waiter.resolve({ kind: "applied", result: result ?? { ok: true, type: "noop" }, index: entry.index });
  }

  /** Read indexes arrived from the engine. */
  readStates(states: ReadState[]): void {
    for (const state of states) {
      const waiter = this.reads.get(state.context);
      if (waiter !== undefined) waiter.index = state.index;
    }
  }

  /** The engine applied up to `raftApplied`: run every read whose index is reached. */
  applied(raftApplied: number): void {
    this.appliedIndex = raftApplied;
    for (const [context, waiter] of this.reads) {
      if (waiter.index === undefined || waiter.index > this.appliedIndex) continue;
      this.reads.delete(context);
      waiter.resolve({ kind: "ok", value: waiter.perform() });
    }
  }

  /** This replica stopped leading: nothing it was asked will be answered by the engine. */
  leadershipLost(): void {
    this.expire(Number.POSITIVE_INFINITY, () => ({ kind: "unknown", reason: "leadership changed" }));
  }

  /** Answers every request whose deadline is at or before `nowMs`. */
  expire(nowMs: number, answer: (reason: string) => Unknown): void {
    for (const [index, waiter] of this.entries) {
      if (waiter.deadlineMs > nowMs) continue;
      this.entries.delete(index);
      waiter.resolve(answer("no answer before the deadline: the write may or may not have been applied"));
    }
    for (const [context, waiter] of this.reads) {
      if (waiter.deadlineMs > nowMs) continue;
      this.reads.delete(context);
      waiter.resolve(answer("no read index before the deadline"));
    }
  }
}
