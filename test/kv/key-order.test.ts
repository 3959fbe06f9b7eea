/**
 * Proves that compareKeys orders keys exactly as their UTF-8 bytes compare, and that the UTF-8 byte
 * length and key validation agree with TextEncoder, by property tests over all of Unicode plus
 * fixed cases for lone surrogates and the key size limit.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareKeys, keyProblemOf, keySuccessor, laterKey, utf8BytesOf } from "../../src/kv/key-order.ts";
import { keyBytesMax } from "../../src/shared/limits.ts";
import { anyKey, compareUtf8Bytes } from "./arbitraries.ts";

describe("compareKeys", () => {
  it("has the sign of the UTF-8 byte comparison for any two keys", () => {
    const related = fc.tuple(anyKey, anyKey, anyKey).map(([stem, left, right]) => [stem + left, stem + right] as const);
    fc.assert(
      fc.property(fc.oneof(fc.tuple(anyKey, anyKey), related), ([left, right]) => {
        expect(Math.sign(compareKeys(left, right))).toBe(Math.sign(compareUtf8Bytes(left, right)));
      }),
      { numRuns: 2_000 },
    );
  });

  it("puts supplementary characters after U+E000..U+FFFF, unlike UTF-16 order", () => {
    expect("\u{1f600}" < "\uff61").toBe(true);
    expect(compareKeys("\u{1f600}", "\uff61")).toBeGreaterThan(0);
    expect(compareKeys("a", "a")).toBe(0);
    expect(compareKeys("a", "ab")).toBeLessThan(0);
  });

  it("keySuccessor is the smallest key above its argument", () => {
    fc.assert(
      fc.property(anyKey, anyKey, (key, other) => {
        const successor = keySuccessor(key);
        expect(compareKeys(successor, key)).toBeGreaterThan(0);
        if (compareKeys(other, key) > 0) expect(compareKeys(other, successor)).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it("laterKey picks the larger bound and treats undefined as no bound", () => {
    expect(laterKey(undefined, "a")).toBe("a");
    expect(laterKey("b", undefined)).toBe("b");
    expect(laterKey("\u{1f600}", "\uff61")).toBe("\u{1f600}");
    expect(laterKey(undefined, undefined)).toBeUndefined();
  });
});

describe("utf8BytesOf and keyProblemOf", () => {
  it("count the bytes TextEncoder writes for well-formed text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (text) => {
        expect(utf8BytesOf(text)).toBe(new TextEncoder().encode(text).length);
      }),
    );
  });

  it("reject lone surrogates, empty keys, non-strings and keys over keyBytesMax", () => {
    expect(utf8BytesOf("a\ud800")).toBeUndefined();
    expect(utf8BytesOf("\udc00a")).toBeUndefined();
    expect(utf8BytesOf("\ud800\ud800")).toBeUndefined();
    expect(keyProblemOf("a\ud83d")).toMatch(/well-formed/);
    expect(keyProblemOf("")).toMatch(/empty/);
    expect(keyProblemOf(7)).toMatch(/string/);
    expect(keyProblemOf("x".repeat(keyBytesMax))).toBeUndefined();
    expect(keyProblemOf("\u00e9".repeat(keyBytesMax / 2))).toBeUndefined();
    expect(keyProblemOf("\u00e9".repeat(keyBytesMax / 2) + "x")).toMatch(/more than/);
  });
});
