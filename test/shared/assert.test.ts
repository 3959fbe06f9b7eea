/**
 * Proves the invariant check: it throws an AssertionError with its message when the condition
 * fails, and a message given as a function (hot paths) is built only then.
 */
import { describe, expect, it } from "vitest";
import { assert, AssertionError } from "../../src/shared/assert.ts";

describe("assert", () => {
  it("throws an AssertionError with the message when the condition fails, and nothing when it holds", () => {
    expect(() => assert(1 > 2, "one is not above two")).toThrow(new AssertionError("one is not above two"));
    expect(() => assert(2 > 1, "never seen")).not.toThrow();
  });

  it("builds a message given as a function only when the condition fails", () => {
    let built = 0;
    const message = () => `built ${++built}`;
    assert(true, message);
    expect(built).toBe(0);
    expect(() => assert(false, message)).toThrow(new AssertionError("built 1"));
    expect(built).toBe(1);
  });
});
