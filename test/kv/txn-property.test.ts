/**
 * Proves, with fast-check over real KV state machines, that two-phase commit through intents and
 * records keeps a bank across three groups correct under any interleaving: transfers (read two
 * balances, then checks on their versions and writes) run step by step in a random order, some
 * stop forever at a random step (a router that died), others push the intents they meet, the clock
 * jumps, and groups restart from snapshots. After a sweep that resolves every intent from its
 * record: no intent or record is left, the total is conserved, and every key holds the value of the
 * committed transaction with the highest version on it (no aborted write is visible, no committed
 * write lost).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { BatchStep, Operation } from "../../src/kv/command.ts";
import type { ApplyResult } from "../../src/kv/result.ts";
import { Harness, utf8 } from "./harness.ts";

const accounts = ["a0", "a1", "a2", "a3", "a4", "a5"];
const groupOf = (key: string) => Number(key.slice(1)) % 3;
const initialBalance = 100;
const deadlineMs = 50;

/** One transfer as a list of steps, advanced one step at a time. */
interface Transfer {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly amount: number;
  readonly crashAt: number;
  step: number;
  done: boolean;
  balances?: Map<string, { value: number; version: number }>;
  prepared: boolean[];
  outcome?: "committed" | "aborted";
  versions: Map<string, number>;
}

class Bank {
  groups = [new Harness(), new Harness(), new Harness()];
  clockMs = 0;
  private clientCounter = 0;
  /** key -> writes of committed transactions: version and balance. */
  readonly committedWrites = new Map<string, { version: number; value: number }[]>();

  run(group: number, operation: Operation): ApplyResult {
    this.clientCounter += 1;
    return this.groups[group]!.run(operation, { clientId: `c${this.clientCounter}`, timeMs: this.clockMs });
  }

  restart(group: number): void {
    const restored = new Harness();
    expect(restored.machine.restore(this.groups[group]!.machine.snapshot())).toEqual({ ok: true });
    this.groups[group] = restored;
  }

  /** Advances `transfer` by one step. */
  advance(transfer: Transfer): void {
    if (transfer.step === transfer.crashAt) {
      transfer.done = true; // the router driving it died here
      return;
    }
    const recordGroup = groupOf(transfer.from);
    const keys = [transfer.from, transfer.to];
    const participants = [...new Set(keys.map(groupOf))];
    const step = transfer.step++;
    if (step === 0) return this.readBalances(transfer);
    if (step === 1) {
      const begun = this.run(recordGroup, { type: "txn", action: "begin", txn: transfer.id, recordKey: transfer.from, deadlineMs: this.clockMs + deadlineMs, keys });
      if (!begun.ok) transfer.done = true;
      return;
    }
    if (step === 2) {
      for (const group of participants) transfer.prepared[group] = this.prepareIn(transfer, group);
      return;
    }
    if (step === 3) {
      const commit = participants.every((group) => transfer.prepared[group]);
      const decided = this.run(recordGroup, { type: "txn", action: "decide", txn: transfer.id, recordKey: transfer.from, decision: commit ? "commit" : "abort" });
      expect(decided).toMatchObject({ ok: true, type: "txnStatus" });
      if (decided.ok && decided.type === "txnStatus") transfer.outcome = decided.status === "committed" ? "committed" : "aborted";
      if (transfer.outcome === "committed") this.noteCommitted(transfer);
      return;
    }
    for (const group of participants) this.run(group, { type: "txn", action: "resolve", txn: transfer.id, commit: transfer.outcome === "committed" });
    this.run(recordGroup, { type: "txn", action: "forget", txn: transfer.id, recordKey: transfer.from });
    transfer.done = true;
  }

  private readBalances(transfer: Transfer): void {
    transfer.balances = new Map();
    for (const key of [transfer.from, transfer.to]) {
      const read = this.groups[groupOf(key)]!.machine.read(key);
      if (!read.ok) {
        if (read.code === "intentFound") this.push(read.intents[0]!.txn, read.intents[0]!.recordKey, groupOf(key));
        transfer.done = true;
        return;
      }
      transfer.balances.set(key, { value: Number(new TextDecoder().decode(read.record!.value)), version: read.record!.version });
    }
  }

  private prepareIn(transfer: Transfer, group: number): boolean {
    const ops: BatchStep[] = [];
    for (const key of [transfer.from, transfer.to]) {
      if (groupOf(key) !== group) continue;
      const seen = transfer.balances!.get(key)!;
      const value = seen.value + (key === transfer.from ? -transfer.amount : transfer.amount);
      ops.push({ type: "check", key, ifVersion: seen.version }, { type: "put", key, value: utf8(String(value)) });
    }
    const prepared = this.run(group, { type: "txn", action: "prepare", txn: transfer.id, recordKey: transfer.from, deadlineMs: this.clockMs + deadlineMs, ops, reads: [] });
    if (prepared.ok && prepared.type === "txn") for (const { key, version } of prepared.versions) transfer.versions.set(key, version);
    return prepared.ok;
  }

  private noteCommitted(transfer: Transfer): void {
    for (const key of [transfer.from, transfer.to]) {
      const seen = transfer.balances!.get(key)!;
      const value = seen.value + (key === transfer.from ? -transfer.amount : transfer.amount);
      const writes = this.committedWrites.get(key) ?? [];
      writes.push({ version: transfer.versions.get(key)!, value });
      this.committedWrites.set(key, writes);
    }
  }

  /** What a reader meeting an intent does: push the record, then resolve the intent's group from the decision. */
  push(txn: string, recordKey: string, intentGroup: number): void {
    const decided = this.run(groupOf(recordKey), { type: "txn", action: "decide", txn, recordKey, decision: "push" });
    if (!decided.ok || decided.type !== "txnStatus" || decided.status === "pending") return;
    this.run(intentGroup, { type: "txn", action: "resolve", txn, commit: decided.status === "committed" });
  }

  /** The background sweep, after every deadline passed: every intent pushed and resolved, every record resolved and forgotten. */
  sweep(): void {
    this.clockMs += deadlineMs * 10;
    this.groups.forEach((harness, group) => {
      for (const intent of harness.machine.transactions().intents) this.push(intent.txn, intent.recordKey, group);
    });
    this.groups.forEach((harness, group) => {
      for (const [txn, record] of harness.machine.transactions().records) {
        const decided = this.run(group, { type: "txn", action: "decide", txn, recordKey: record.recordKey, decision: "push" });
        const commit = decided.ok && decided.type === "txnStatus" && decided.status === "committed";
        for (const participant of new Set(record.keys.map(groupOf))) this.run(participant, { type: "txn", action: "resolve", txn, commit });
        this.run(group, { type: "txn", action: "forget", txn, recordKey: record.recordKey });
      }
    });
  }
}

const transferArbitrary = fc.record({
  from: fc.integer({ min: 0, max: 5 }),
  offset: fc.integer({ min: 1, max: 5 }),
  amount: fc.integer({ min: 1, max: 30 }),
  crashAt: fc.oneof(fc.constant(99), fc.integer({ min: 1, max: 5 })),
});

const eventArbitrary = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("advance" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("restart" as const), group: fc.integer({ min: 0, max: 2 }) }) },
);

describe("transfers across three groups", () => {
  it("conserve the total and leave exactly the committed writes, whatever the interleaving, crashes and pushes", () => {
    fc.assert(
      fc.property(fc.array(transferArbitrary, { minLength: 1, maxLength: 12 }), fc.array(eventArbitrary, { maxLength: 120 }), (specs, events) => {
        const bank = new Bank();
        for (const key of accounts) bank.run(groupOf(key), { type: "put", key, value: utf8(String(initialBalance)) });
        const transfers: Transfer[] = specs.map((spec, index) => ({
          id: `t${index}`,
          from: accounts[spec.from]!,
          to: accounts[(spec.from + spec.offset) % accounts.length]!,
          amount: spec.amount,
          crashAt: spec.crashAt,
          step: 0,
          done: false,
          prepared: [],
          versions: new Map(),
        }));
        for (const event of events) {
          const live = transfers.filter((transfer) => !transfer.done);
          if (event.kind === "tick") bank.clockMs += event.ms;
          else if (event.kind === "restart") bank.restart(event.group);
          else if (live.length > 0) bank.advance(live[event.pick % live.length]!);
        }
        bank.sweep();
        let total = 0;
        for (const key of accounts) {
          const harness = bank.groups[groupOf(key)]!;
          const record = harness.machine.get(key)!;
          total += Number(new TextDecoder().decode(record.value));
          const writes = bank.committedWrites.get(key) ?? [];
          const newest = writes.reduce<{ version: number; value: number } | undefined>((best, write) => (best === undefined || write.version > best.version ? write : best), undefined);
          if (newest === undefined) expect(Number(new TextDecoder().decode(record.value))).toBe(initialBalance);
          else expect({ version: record.version, value: Number(new TextDecoder().decode(record.value)) }).toEqual(newest);
        }
        expect(total).toBe(initialBalance * accounts.length);
        for (const harness of bank.groups) expect(harness.machine.transactions()).toEqual({ intents: [], records: [], intentValueBytes: 0 });
      }),
      { numRuns: 300 },
    );
  });
});
