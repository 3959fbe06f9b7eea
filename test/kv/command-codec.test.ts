/**
 * Proves the command encoding round-trips every valid command exactly (values of arbitrary bytes,
 * keys from all of Unicode) and deterministically, and that malformed or truncated bytes give a
 * badCommand value and never an exception: property tests for both, fixed cases for each rule.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { commandFormatVersion, decodeCommand, encodeCommand } from "../../src/kv/command-codec.ts";
import { validateCommand } from "../../src/kv/command.ts";
import type { Command, Operation } from "../../src/kv/command.ts";
import { AssertionError } from "../../src/shared/assert.ts";
import { batchOperationsMax, clientIdBytesMax, keyBytesMax, valueBytesMax } from "../../src/shared/limits.ts";
import { anyCommand } from "./arbitraries.ts";

const envelope = { clientId: "client", seq: 1, timeMs: 1_700_000_000_000 };
const commandOf = (operation: Operation): Command => ({ ...envelope, operation });

/** Frames a raw header and raw value bytes the way encodeCommand does, to build malformed input. */
function frame(header: unknown, values: number[] = [], version = commandFormatVersion): Uint8Array {
  const headerBytes = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const result = new Uint8Array(5 + headerBytes.length + values.length);
  result[0] = version;
  new DataView(result.buffer).setUint32(1, headerBytes.length);
  result.set(headerBytes, 5);
  result.set(values, 5 + headerBytes.length);
  return result;
}

function reasonOf(data: Uint8Array): string {
  const decoded = decodeCommand(data);
  expect(decoded.ok).toBe(false);
  return decoded.ok ? "" : decoded.reason;
}

describe("command encoding round trip", () => {
  it("decode(encode(command)) equals the command, for any valid command", () => {
    fc.assert(
      fc.property(anyCommand, (command) => {
        const decoded = decodeCommand(encodeCommand(command));
        expect(decoded).toEqual({ ok: true, command });
      }),
      { numRuns: 1_000 },
    );
  });

  it("is deterministic: equal commands encode to equal bytes", () => {
    fc.assert(
      fc.property(anyCommand, (command) => {
        const copy = structuredClone(command);
        expect(encodeCommand(copy)).toEqual(encodeCommand(command));
      }),
    );
  });

  it("carries a maximal value and a maximal key byte for byte", () => {
    const value = Uint8Array.from({ length: valueBytesMax }, (_, index) => (index * 31) & 0xff);
    const key = "\u{1f600}".repeat(keyBytesMax / 4);
    const decoded = decodeCommand(encodeCommand(commandOf({ type: "put", key, value, condition: { ifAbsent: true } })));
    const operation = decoded.ok ? decoded.command.operation : undefined;
    expect(operation?.type === "put" && operation.key === key && operation.condition).toEqual({ ifAbsent: true });
    // Compared as Buffers: vitest's deep equality walks a megabyte slowly.
    expect(operation?.type === "put" && Buffer.from(operation.value).equals(Buffer.from(value))).toBe(true);
  });

  it("decodes values into their own memory, not views of the entry", () => {
    const data = encodeCommand(commandOf({ type: "put", key: "a", value: Uint8Array.of(1, 2, 3) }));
    const decoded = decodeCommand(data);
    data.fill(0);
    expect(decoded.ok && decoded.command.operation.type === "put" && decoded.command.operation.value).toEqual(Uint8Array.of(1, 2, 3));
  });

  it("refuses to encode an invalid command (proposers validate first)", () => {
    const invalid = commandOf({ type: "put", key: "", value: new Uint8Array() });
    expect(validateCommand(invalid)).toMatchObject({ ok: false, code: "badCommand" });
    expect(() => encodeCommand(invalid)).toThrow(AssertionError);
  });
});

describe("malformed command bytes", () => {
  it("never throw: random bytes, truncations and byte flips of valid encodings give a value", () => {
    const mangled = fc.tuple(anyCommand, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([command, position, flip]) => {
      const data = encodeCommand(command);
      const flipped = data.slice();
      const at = position % data.length;
      flipped[at] = (flipped[at] as number) ^ flip;
      return [data.subarray(0, at), flipped] as const;
    });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), mangled, (random, [truncated, flipped]) => {
        expect(decodeCommand(random).ok).toBe(false);
        expect(decodeCommand(truncated).ok).toBe(false);
        expect(() => decodeCommand(flipped)).not.toThrow();
      }),
      { numRuns: 1_000 },
    );
  });

  it("reject bad framing with a reason", () => {
    const put = { ...envelope, operation: { type: "put", key: "a", valueBytes: 2 } };
    expect(reasonOf(new Uint8Array())).toMatch(/format version/);
    expect(reasonOf(frame(put, [1, 2], 2))).toMatch(/format version/);
    expect(reasonOf(frame(put, [1, 2]).subarray(0, 8))).toMatch(/truncated/);
    expect(reasonOf(frame("{not json", []))).toMatch(/JSON object/);
    expect(reasonOf(frame([1, 2], []))).toMatch(/JSON object/);
    expect(reasonOf(frame(put, [1]))).toMatch(/value is missing/);
    expect(reasonOf(frame(put, [1, 2, 3]))).toMatch(/follow the last value/);
    expect(reasonOf(frame({ ...put, operation: { ...put.operation, valueBytes: -1 } }, []))).toMatch(/value/);
    const invalidUtf8 = frame(put, [1, 2]);
    invalidUtf8[6] = 0xff;
    expect(reasonOf(invalidUtf8)).toMatch(/not UTF-8/);
    expect(decodeCommand("text" as unknown as Uint8Array).ok).toBe(false);
  });

  it("reject envelopes that break a rule", () => {
    const noop = { type: "noop" };
    expect(reasonOf(frame({ ...envelope, clientId: "", operation: noop }))).toMatch(/clientId/);
    expect(reasonOf(frame({ ...envelope, clientId: "x".repeat(clientIdBytesMax + 1), operation: noop }))).toMatch(/clientId/);
    expect(reasonOf(frame({ ...envelope, clientId: "\ud800", operation: noop }))).toMatch(/clientId/);
    expect(reasonOf(frame({ ...envelope, seq: 0, operation: noop }))).toMatch(/seq/);
    expect(reasonOf(frame({ ...envelope, seq: 1.5, operation: noop }))).toMatch(/seq/);
    expect(reasonOf(frame({ ...envelope, seq: 2 ** 53, operation: noop }))).toMatch(/seq/);
    expect(reasonOf(frame({ ...envelope, timeMs: -1, operation: noop }))).toMatch(/timeMs/);
    expect(reasonOf(frame({ ...envelope, timeMs: "1", operation: noop }))).toMatch(/timeMs/);
    expect(reasonOf(frame({ ...envelope, requestId: 5, operation: noop }))).toMatch(/requestId/);
    expect(reasonOf(frame({ ...envelope }))).toMatch(/operation/);
    expect(reasonOf(frame({ ...envelope, operation: { type: "rename" } }))).toMatch(/unknown operation/);
  });

  it("reject operations that break a rule", () => {
    const operationOf = (operation: unknown, values: number[] = []): string => reasonOf(frame({ ...envelope, operation }, values));
    expect(operationOf({ type: "delete", key: "" })).toMatch(/empty/);
    expect(operationOf({ type: "delete", key: "\udfff" })).toMatch(/well-formed/);
    expect(operationOf({ type: "delete", key: "k".repeat(keyBytesMax + 1) })).toMatch(/more than/);
    expect(operationOf({ type: "delete", key: "a", condition: { ifVersion: -1 } })).toMatch(/ifVersion/);
    expect(operationOf({ type: "delete", key: "a", condition: { ifAbsent: false } })).toMatch(/ifAbsent/);
    expect(operationOf({ type: "delete", key: "a", condition: { ifAbsent: true, ifVersion: 1 } })).toMatch(/exactly one/);
    expect(operationOf({ type: "delete", key: "a", condition: {} })).toMatch(/exactly one/);
    expect(operationOf({ type: "delete", key: "a", condition: [] })).toMatch(/exactly one/);
    expect(operationOf({ type: "put", key: "a", valueBytes: valueBytesMax + 1 })).toMatch(/value/);
    expect(operationOf({ type: "check", key: "a", ifVersion: 1 })).toMatch(/unknown operation/);
    expect(operationOf({ type: "batch", ops: [] })).toMatch(/at least one/);
    expect(operationOf({ type: "batch", ops: "x" })).toMatch(/array/);
    expect(operationOf({ type: "batch", ops: [{ type: "noop" }] })).toMatch(/step 0: unknown step/);
    expect(operationOf({ type: "batch", ops: [{ type: "check", key: "a", ifVersion: 0 }, null] })).toMatch(/step 1/);
    expect(operationOf({ type: "batch", ops: [{ type: "check", key: "a" }] })).toMatch(/ifVersion/);
    const tooMany = Array.from({ length: batchOperationsMax + 1 }, () => ({ type: "check", key: "a", ifVersion: 0 }));
    expect(operationOf({ type: "batch", ops: tooMany })).toMatch(/more than/);
    expect(operationOf({ type: "batch", ops: [{ type: "put", key: "a", valueBytes: 1 }] }, [])).toMatch(/value is missing/);
  });
});
