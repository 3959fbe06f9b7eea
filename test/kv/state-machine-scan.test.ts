/**
 * Proves the state machine's local reads: get, and scans that come back in UTF-8 key order, honour
 * start, end and prefix, and page with a cursor so that the pages joined equal the whole range,
 * with no record lost or repeated even when writes land between pages. Fixed cases plus a property
 * test against a filtered, sorted list.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ScanRequest } from "../../src/kv/state-machine.ts";
import type { KvEntry } from "../../src/kv/store.ts";
import { AssertionError } from "../../src/shared/assert.ts";
import { scanLimitMax } from "../../src/shared/limits.ts";
import { anyKey, compareUtf8Bytes } from "./arbitraries.ts";
import { Harness, put, utf8 } from "./harness.ts";

function filled(keys: readonly string[]): Harness {
  const harness = new Harness();
  if (keys.length > 0) harness.run({ type: "batch", ops: keys.map((key) => ({ type: "put" as const, key, value: utf8(key) })) });
  return harness;
}

/** Reads every page of `request` with `limit` per page; returns the keys of each page. */
function pagesOf(harness: Harness, request: ScanRequest, limit: number): string[][] {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = harness.machine.scan({ ...request, limit, ...(cursor === undefined ? {} : { cursor }) });
    expect(page.entries.length).toBeLessThanOrEqual(limit);
    pages.push(page.entries.map((entry: KvEntry) => entry.key));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return pages;
}

describe("get", () => {
  it("reads a record with its version, and undefined for an absent key", () => {
    const harness = new Harness();
    harness.run(put("k", "v"));
    expect(harness.machine.get("k")).toEqual({ value: utf8("v"), version: 1 });
    expect(harness.machine.get("absent")).toBeUndefined();
  });
});

describe("scan", () => {
  const keys = ["user/1", "user/10", "user/2", "users", "admin", "\u{1f600}", "\uff61", "user/\u00e9"];

  it("returns records in UTF-8 key order with their values and versions", () => {
    const page = filled(keys).machine.scan();
    expect(page.entries.map((entry) => entry.key)).toEqual(["admin", "user/1", "user/10", "user/2", "user/\u00e9", "users", "\uff61", "\u{1f600}"]);
    expect(page.entries[0]).toEqual({ key: "admin", value: utf8("admin"), version: 5 });
    expect(page.cursor).toBeUndefined();
  });

  it("honours prefix, start and end", () => {
    const harness = filled(keys);
    const keysOf = (request: ScanRequest): string[] => harness.machine.scan(request).entries.map((entry) => entry.key);
    expect(keysOf({ prefix: "user/" })).toEqual(["user/1", "user/10", "user/2", "user/\u00e9"]);
    expect(keysOf({ start: "user/2", end: "\uff61" })).toEqual(["user/2", "user/\u00e9", "users"]);
    expect(keysOf({ prefix: "user/", start: "user/10", end: "user/2" })).toEqual(["user/10"]);
    expect(keysOf({ start: "\uff62" })).toEqual(["\u{1f600}"]);
  });

  it("pages with a cursor, ending with a page that carries no cursor", () => {
    const harness = filled(keys);
    expect(pagesOf(harness, { prefix: "user" }, 2)).toEqual([["user/1", "user/10"], ["user/2", "user/\u00e9"], ["users"]]);
    expect(pagesOf(harness, {}, 4)).toEqual([["admin", "user/1", "user/10", "user/2"], ["user/\u00e9", "users", "\uff61", "\u{1f600}"]]);
    expect(pagesOf(harness, { prefix: "none" }, 3)).toEqual([[]]);
  });

  it("neither loses nor repeats records when writes land between pages", () => {
    const harness = filled(["b", "d", "f"]);
    const first = harness.machine.scan({ limit: 2 });
    expect(first.entries.map((entry) => entry.key)).toEqual(["b", "d"]);
    harness.run(put("c", "before the cursor"));
    harness.run(put("d\u0000", "just after d"));
    harness.run({ type: "delete", key: "f" });
    const second = harness.machine.scan({ limit: 2, ...(first.cursor === undefined ? {} : { cursor: first.cursor }) });
    expect(second.entries.map((entry) => entry.key)).toEqual(["d\u0000"]);
  });

  it("asserts a limit within 1..scanLimitMax and well-formed bounds", () => {
    const harness = filled(keys);
    expect(harness.machine.scan({ limit: scanLimitMax }).entries).toHaveLength(keys.length);
    expect(() => harness.machine.scan({ limit: 0 })).toThrow(AssertionError);
    expect(() => harness.machine.scan({ limit: scanLimitMax + 1 })).toThrow(AssertionError);
    expect(() => harness.machine.scan({ prefix: "\ud800" })).toThrow(AssertionError);
  });

  it("pages joined equal the filtered, sorted records, for any keys, range and page size", () => {
    const request = fc.record({ start: anyKey, end: anyKey, prefix: fc.constantFrom("", "a", "\u{1f600}") }, { requiredKeys: [] });
    const keyList = fc.uniqueArray(fc.oneof(anyKey, anyKey.map((key) => `a${key}`)), { maxLength: 40 });
    fc.assert(
      fc.property(keyList, request, fc.integer({ min: 1, max: 7 }), (generatedKeys, range, limit) => {
        const harness = filled(generatedKeys);
        const sorted = generatedKeys
          .filter((key) => range.start === undefined || compareUtf8Bytes(key, range.start) >= 0)
          .filter((key) => range.end === undefined || compareUtf8Bytes(key, range.end) < 0)
          .filter((key) => range.prefix === undefined || key.startsWith(range.prefix))
          .sort(compareUtf8Bytes);
        expect(pagesOf(harness, range, limit).flat()).toEqual(sorted);
      }),
      { numRuns: 300 },
    );
  });
});
