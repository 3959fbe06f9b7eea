/**
 * Proves that a transaction's intents and records travel with their span through the move saga's
 * commands, applied to two real KV state machines (encoded commands in log order): export pages walk
 * records, intents and records together and end between keys; install lays them as incoming state
 * that the target neither serves nor resolves before acquire; release and abortInstall delete them
 * from the side that no longer has the span; afterwards the new owner decides, resolves and forgets
 * them with the reserved versions, the old owner refuses with wrongRange and a moved-to hint, and a
 * late prepare of a transaction that ended in the source is refused in the target.
 */
import { describe, expect, it } from "vitest";
import type { BatchStep, Operation, RangeChange } from "../../src/kv/command.ts";
import type { Span } from "../../src/kv/span.ts";
import { rangeInstallEntriesMax } from "../../src/shared/limits.ts";
import { Harness, put, utf8 } from "./harness.ts";

const putStep = (key: string, text: string): BatchStep => ({ type: "put", key, value: utf8(text) });
const range = (change: RangeChange): Operation => ({ type: "range", change });
const prepare = (txn: string, recordKey: string, ops: BatchStep[], reads: string[] = []): Operation => ({ type: "txn", action: "prepare", txn, recordKey, deadlineMs: 1_000, ops, reads });
const begin = (txn: string, recordKey: string, keys: string[]): Operation => ({ type: "txn", action: "begin", txn, recordKey, deadlineMs: 1_000, keys });
const decide = (txn: string, recordKey: string, decision: "commit" | "abort" | "push"): Operation => ({ type: "txn", action: "decide", txn, recordKey, decision });
const resolve = (txn: string, commit: boolean, keys?: string[]): Operation => ({ type: "txn", action: "resolve", txn, commit, ...(keys === undefined ? {} : { keys }) });
const forget = (txn: string, recordKey: string): Operation => ({ type: "txn", action: "forget", txn, recordKey });

/** Groups A (serving everything) and B (serving nothing), as a split starts. */
function twoGroups(mode: "range" | "hash" = "range"): { a: Harness; b: Harness } {
  const a = new Harness();
  const b = new Harness();
  a.run(range({ action: "init", mode, spans: [{ start: "" }] }));
  b.run(range({ action: "init", mode, spans: [] }));
  return { a, b };
}

/** Freezes `span` in A and installs every page of it in B; answers the pages' sizes. */
function freezeAndCopy(a: Harness, b: Harness, saga: string, span: Span): { records: number; intents: number; txnRecords: number; keys: Set<string> }[] {
  expect(a.run(range({ action: "freeze", saga, span }))).toMatchObject({ ok: true });
  const pages: { records: number; intents: number; txnRecords: number; keys: Set<string> }[] = [];
  let cursor: string | undefined;
  do {
    const page = a.machine.exportRange(saga, span, cursor)!;
    expect(page).toBeDefined();
    expect(b.run(range({ action: "install", saga, span, records: page.records, sessions: page.sessions, versionFloor: page.versionFloor, ...(page.txn === undefined ? {} : { txn: page.txn }) }))).toMatchObject({ ok: true });
    const keys = new Set([...page.records.map((record) => record.key), ...(page.txn?.intents ?? []).map((intent) => intent[0] as string), ...(page.txn?.records ?? []).map((record) => record[4] as string)]);
    pages.push({ records: page.records.length, intents: page.txn?.intents.length ?? 0, txnRecords: page.txn?.records.length ?? 0, keys });
    expect(page.cursor === undefined || cursor === undefined || page.cursor > cursor).toBe(true);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return pages;
}

function finishMove(a: Harness, b: Harness, saga: string, span: Span): void {
  expect(a.run(range({ action: "release", saga, span, to: "B" }))).toMatchObject({ ok: true });
  expect(b.run(range({ action: "acquire", saga, span }))).toMatchObject({ ok: true });
}

describe("a move carries a span's transaction state", () => {
  it("moves intents and a record to the target, which then commits them with the reserved versions; the source keeps nothing and points at the target", () => {
    const { a, b } = twoGroups();
    a.run(put("n1", "10"));
    a.run(put("z1", "10"));
    a.run(begin("t1", "n1", ["n1", "z1", "n2"]));
    const prepared = a.run(prepare("t1", "n1", [putStep("n1", "5"), { type: "delete", key: "z1" }], ["n2"]));
    expect(prepared).toMatchObject({ ok: true, versions: [{ key: "n1", version: 3 }, { key: "z1", version: 4 }] });
    const span = { start: "n", end: "o" };
    const pages = freezeAndCopy(a, b, "s1", span);
    expect(pages).toEqual([{ records: 1, intents: 2, txnRecords: 1, keys: new Set(["n1", "n2"]) }]); // n1's record, the intents on n1 and n2, t1's record at n1
    expect(b.machine.transactions().intents.map((intent) => intent.key)).toEqual(["n1", "n2"]);
    expect(b.run(decide("t1", "n1", "commit"))).toMatchObject({ ok: false, code: "wrongRange" }); // not acquired yet
    finishMove(a, b, "s1", span);

    expect(a.machine.transactions().intents.map((intent) => intent.key)).toEqual(["z1"]);
    expect(a.machine.transactions().records).toEqual([]);
    expect(a.run(decide("t1", "n1", "commit"))).toMatchObject({ ok: false, code: "wrongRange", movedTo: "B" });
    expect(a.run(resolve("t1", true, ["n1"]))).toMatchObject({ ok: false, code: "wrongRange", movedTo: "B" });
    expect(b.run(put("n1", "99"))).toMatchObject({ ok: false, code: "intentFound" }); // the moved intent still guards its key

    expect(b.run(decide("t1", "n1", "commit"))).toMatchObject({ ok: true, status: "committed" });
    expect(b.run(resolve("t1", true, ["n1"]))).toMatchObject({ ok: true, resolved: 2 });
    expect(a.run(resolve("t1", true, ["z1"]))).toMatchObject({ ok: true, resolved: 1 });
    expect(b.run(forget("t1", "n1"))).toMatchObject({ ok: true, forgotten: true });
    expect(b.machine.get("n1")).toEqual({ value: utf8("5"), version: 3 });
    expect(a.machine.get("z1")).toBeUndefined();
    expect(b.run(put("n1", "6"))).toMatchObject({ ok: true, version: 5 }); // above every version the source handed out
    expect(b.machine.transactions().intents).toEqual([]);
    expect(b.machine.transactions().records).toEqual([]);
  });

  it("pages end between keys, with a key's record, intent and transaction records on one page", () => {
    const { a, b } = twoGroups();
    const keys = Array.from({ length: rangeInstallEntriesMax + 200 }, (_, index) => `k${String(index).padStart(5, "0")}`);
    a.run({ type: "batch", ops: keys.slice(0, 600).map((key) => putStep(key, "v")) });
    a.run({ type: "batch", ops: keys.slice(600).map((key) => putStep(key, "v")) });
    // Eight held keys before index 983 make 983 + 2 * 8 = 999 entries; the key at 983 brings three (record, intent, txn record): it must open the next page whole.
    const boundary = keys[rangeInstallEntriesMax - 17]!;
    const held = [...keys.slice(600, 1000).filter((_, index) => index % 50 === 0), boundary, keys[1050]!].sort();
    for (const [index, key] of held.entries()) {
      a.run(begin(`t${index}`, key, [key]));
      a.run(prepare(`t${index}`, key, [putStep(key, "w")]));
    }
    const span = { start: "k", end: "l" };
    const pages = freezeAndCopy(a, b, "s1", span);
    expect(pages.length).toBe(2);
    expect(pages.reduce((sum, page) => sum + page.records, 0)).toBe(keys.length);
    expect(pages.reduce((sum, page) => sum + page.intents, 0)).toBe(held.length);
    expect(pages.reduce((sum, page) => sum + page.txnRecords, 0)).toBe(held.length);
    for (const page of pages) expect(page.records + page.intents + page.txnRecords).toBeLessThanOrEqual(rangeInstallEntriesMax);
    expect([...pages[0]!.keys].filter((key) => pages[1]!.keys.has(key))).toEqual([]); // no key's state is split over two pages
    expect(pages[0]!.records + pages[0]!.intents + pages[0]!.txnRecords).toBe(rangeInstallEntriesMax - 1);
    expect(pages[1]!.keys.has(boundary)).toBe(true);
    expect(held.filter((key) => pages[0]!.keys.has(key)).length).toBeGreaterThan(0); // the first page did carry transaction state
    finishMove(a, b, "s1", span);
    expect(b.machine.transactions().intents.map((intent) => intent.key)).toEqual(held);
    expect(b.machine.transactions().records.length).toBe(held.length);
    expect(a.machine.transactions().intents).toEqual([]);
    const restored = new Harness();
    expect(restored.machine.restore(b.machine.snapshot())).toEqual({ ok: true });
    expect(restored.machine.transactions()).toEqual(b.machine.transactions());
  });

  it("a rolled-back move deletes the target's incoming intents and records; the source keeps and resolves its own", () => {
    const { a, b } = twoGroups();
    a.run(begin("t1", "n1", ["n1"]));
    a.run(prepare("t1", "n1", [putStep("n1", "5")]));
    const span = { start: "n", end: "o" };
    freezeAndCopy(a, b, "s1", span);
    expect(a.run(range({ action: "unfreeze", saga: "s1" }))).toMatchObject({ ok: true });
    expect(b.run(range({ action: "abortInstall", saga: "s1" }))).toMatchObject({ ok: true });
    expect(b.machine.transactions()).toMatchObject({ intents: [], records: [] });
    expect(a.run(decide("t1", "n1", "commit"))).toMatchObject({ ok: true, status: "committed" });
    expect(a.run(resolve("t1", true, ["n1"]))).toMatchObject({ ok: true, resolved: 1 });
    expect(a.machine.get("n1")).toMatchObject({ value: utf8("5") });
  });

  it("before acquire the target resolves only the keys it serves, and the incoming intent after acquire", () => {
    const { a, b } = twoGroups();
    // B first takes [a, b) and t1 prepares there; then t1's other key n1 moves in from A.
    freezeAndCopy(a, b, "s0", { start: "a", end: "b" });
    finishMove(a, b, "s0", { start: "a", end: "b" });
    a.run(begin("t1", "n1", ["a1", "n1"]));
    b.run(prepare("t1", "n1", [putStep("a1", "1")]));
    a.run(prepare("t1", "n1", [putStep("n1", "2")]));
    expect(a.run(decide("t1", "n1", "commit"))).toMatchObject({ status: "committed" });
    freezeAndCopy(a, b, "s1", { start: "n", end: "o" });
    expect(b.run(resolve("t1", true, ["a1"]))).toMatchObject({ ok: true, resolved: 1 });
    expect(b.machine.transactions().intents.map((intent) => intent.key)).toEqual(["n1"]);
    finishMove(a, b, "s1", { start: "n", end: "o" });
    expect(b.run(resolve("t1", true, ["n1"]))).toMatchObject({ ok: true, resolved: 1 });
    expect(b.machine.get("n1")).toMatchObject({ value: utf8("2") });
    expect(b.run(forget("t1", "n1"))).toMatchObject({ forgotten: true });
  });

  it("carries the ended transactions, so a late prepare of one that ended in the source is refused in the target", () => {
    const { a, b } = twoGroups();
    a.run(prepare("t1", "x", [putStep("n1", "5")]));
    a.run(resolve("t1", false));
    freezeAndCopy(a, b, "s1", { start: "n", end: "o" });
    finishMove(a, b, "s1", { start: "n", end: "o" });
    expect(b.run(prepare("t1", "x", [putStep("n1", "5")]))).toMatchObject({ ok: false, code: "txnRefused" });
    expect(b.machine.transactions().intents).toEqual([]);
  });

  it("moves intents by hash slot in a hashed keyspace", () => {
    const { a, b } = twoGroups("hash");
    a.run(begin("t1", "user-1", ["user-1"]));
    a.run(prepare("t1", "user-1", [putStep("user-1", "5")]));
    const span = { start: "" };
    freezeAndCopy(a, b, "s1", span);
    finishMove(a, b, "s1", span);
    expect(b.machine.transactions().intents.map((intent) => intent.key)).toEqual(["user-1"]);
    expect(b.run(decide("t1", "user-1", "commit"))).toMatchObject({ status: "committed" });
  });

  it("refuses an install whose transaction state is malformed, outside the span, or clashes with an intent there", () => {
    const { b } = twoGroups();
    const install = (txn: unknown) => b.run(range({ action: "install", saga: "s1", span: { start: "n", end: "o" }, records: [], sessions: [], versionFloor: 5, txn } as RangeChange));
    expect(install({ intents: "no", records: [], ended: [] })).toMatchObject({ ok: false, code: "rangeRefused" });
    expect(install({ intents: [["z1", "t1", "z1", 0]], records: [], ended: [] })).toMatchObject({ ok: false, code: "rangeRefused", reason: "an installed intent lies outside the span" });
    expect(install({ intents: [["n1", "t1", "n1", 0, "put", 9, "AA=="]], records: [], ended: [] })).toMatchObject({ ok: false, code: "rangeRefused" }); // reserved version above the floor
    expect(install({ intents: [], records: [["t1", "pending", 0, [], "z"]], ended: [] })).toMatchObject({ ok: false, code: "rangeRefused" });
    expect(install({ intents: [["n1", "t1", "n1", 0]], records: [], ended: [] })).toMatchObject({ ok: true });
    expect(install({ intents: [["n1", "t2", "n1", 0]], records: [], ended: [] })).toMatchObject({ ok: false, code: "rangeRefused", reason: "an installed intent meets another transaction's intent" });
    expect(b.machine.transactions().intents.map((intent) => intent.txn)).toEqual(["t1"]);
  });
});
