/**
 * Proves the balancer's decisions (multiraft/balance.ts) and the leader's load reporter
 * (hosts/common/load-reporter.ts, driven here with a fake clock): splits on each threshold,
 * merges only quiet small adjacent groups where one came from an automatic split, never a merge
 * that the next split would undo, and reports sent only while writing or once after going quiet.
 */
import { describe, expect, it } from "vitest";
import { decide, type BalanceThresholds, type GroupLoad } from "../../src/multiraft/balance.ts";
import { assignSpan, singleGroupTable } from "../../src/multiraft/keyspace.ts";
import { LoadReporter, quietMs, reportsLoad } from "../../src/hosts/common/load-reporter.ts";

const thresholds: BalanceThresholds = { splitKeys: 100, splitBytes: 10_000, splitWritesPerSecond: 50, mergeKeys: 20 };
const table = assignSpan(assignSpan(singleGroupTable("range", "default"), { start: "m" }, "auto-1"), { start: "x" }, "other");
const load = (group: string, fields: Partial<GroupLoad> = {}): GroupLoad => ({ group, keys: 10, bytes: 100, writesPerSecond: 0, quiet: false, ...fields });

describe("balance decisions", () => {
  it("splits a group past any threshold", () => {
    expect(decide(load("default", { keys: 100 }), new Map(), table, new Set(), thresholds)).toMatchObject({ kind: "split", group: "default" });
    expect(decide(load("default", { bytes: 10_000 }), new Map(), table, new Set(), thresholds)).toMatchObject({ kind: "split" });
    expect(decide(load("default", { writesPerSecond: 50 }), new Map(), table, new Set(), thresholds)).toMatchObject({ kind: "split" });
    expect(decide(load("default", { keys: 99, bytes: 9_999, writesPerSecond: 49 }), new Map(), table, new Set(), thresholds)).toEqual({ kind: "none" });
    expect(decide(load("tenant-x", { keys: 1_000 }), new Map(), table, new Set(), thresholds)).toEqual({ kind: "none" }); // not in the shared table
  });

  it("merges an automatic group into a quiet small neighbour, and nothing else", () => {
    const quietDefault = new Map([["default", load("default", { quiet: true, keys: 5 })]]);
    const merge = decide(load("auto-1", { quiet: true, keys: 5 }), quietDefault, table, new Set(["auto-1"]), thresholds);
    expect(merge).toMatchObject({ kind: "merge", into: "default", from: "auto-1" });
    // From the other side: the report of default finds the quiet automatic neighbour.
    const fromDefault = decide(load("default", { quiet: true, keys: 5 }), new Map([["auto-1", load("auto-1", { quiet: true, keys: 5 })]]), table, new Set(["auto-1"]), thresholds);
    expect(fromDefault).toMatchObject({ kind: "merge", into: "default", from: "auto-1" });
    expect(decide(load("auto-1", { quiet: true, keys: 5 }), quietDefault, table, new Set(), thresholds)).toEqual({ kind: "none" }); // made by an operator
    expect(decide(load("auto-1", { quiet: false, keys: 5 }), quietDefault, table, new Set(["auto-1"]), thresholds)).toEqual({ kind: "none" });
    expect(decide(load("auto-1", { quiet: true, keys: 5 }), new Map([["default", load("default", { keys: 5 })]]), table, new Set(["auto-1"]), thresholds)).toEqual({ kind: "none" });
    // Hysteresis: two groups whose sum is half the split threshold or more stay apart.
    const big = new Map([["default", load("default", { quiet: true, keys: 19 })]]);
    expect(decide(load("auto-1", { quiet: true, keys: 19 }), big, table, new Set(["auto-1"]), { ...thresholds, splitKeys: 70 })).toEqual({ kind: "none" });
  });
});

describe("the load reporter", () => {
  it("runs only for groups of the shared keyspace (a tenant's group is never reshaped automatically)", () => {
    expect(reportsLoad({ default: true })).toBe(true);
    expect(reportsLoad({ prefix: "shop/" })).toBe(true);
    expect(reportsLoad({ start: "m", end: "x" })).toBe(true);
    expect(reportsLoad({ tenant: "acme" })).toBe(false);
  });

  function reporter() {
    const clock = { now: 0, proposals: 0, keys: 10 };
    const sent: GroupLoad[] = [];
    const source = { group: "g", measure: () => ({ keys: clock.keys, bytes: clock.keys * 10 }), proposals: () => clock.proposals, leading: () => true, nowMs: () => clock.now };
    return { clock, sent, reporter: new LoadReporter(source, thresholds, (l) => sent.push(l)) };
  }

  it("reports a write rate past the threshold, at most once per interval", () => {
    const { clock, sent, reporter: r } = reporter();
    for (let ms = 0; ms <= 30_000; ms += 10) {
      clock.now = ms;
      clock.proposals += 1; // 100 writes/s
      r.afterWrite();
    }
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(sent.length).toBeLessThanOrEqual(4);
    expect(sent[0]!.writesPerSecond).toBeGreaterThan(90);
  });

  it("sends nothing for slow writes, then one quiet report after the last write", () => {
    const { clock, sent, reporter: r } = reporter();
    for (let ms = 0; ms <= 10_000; ms += 1_000) {
      clock.now = ms;
      clock.proposals += 1;
      r.afterWrite();
    }
    expect(sent).toEqual([]);
    expect(r.quietCheckAtMs()).toBe(10_000 + quietMs);
    clock.now = 10_000 + quietMs - 1;
    r.quietCheck();
    expect(sent).toEqual([]);
    clock.now = 10_000 + quietMs;
    r.quietCheck();
    expect(sent).toEqual([{ group: "g", keys: 10, bytes: 100, writesPerSecond: 0, quiet: true }]);
    expect(r.quietCheckAtMs()).toBeNull(); // no further alarm: an idle group costs nothing
    r.quietCheck();
    expect(sent.length).toBe(1);
  });
});
