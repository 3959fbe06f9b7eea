/**
 * Proves the command encoding round-trips every valid command exactly (values of arbitrary bytes,
 * keys from all of Unicode) and deterministically, and that malformed or truncated bytes give a
 * badCommand value and never an exception: property tests for both, fixed cases for each rule.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { commandFormatVersion, compactCommandFormatVersion, decodeCommand, encodeCommand } from "../../src/kv/command-codec.ts";
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

describe("the compact format of a single put or delete", () => {
  const put = commandOf({ type: "put", key: "k", value: Uint8Array.of(7, 8) });

  it("is what a single put or delete encodes to, and nothing else", () => {
    fc.assert(
      fc.property(anyCommand, (command) => {
        const single = command.operation.type === "put" || command.operation.type === "delete";
        expect(encodeCommand(command)[0]).toBe(single ? compactCommandFormatVersion : commandFormatVersion);
      }),
    );
    // 2 format and flags bytes, seq and timeMs varints (1 + 6), "client", "k", and the value, each with its length.
    expect(encodeCommand(put).length).toBe(2 + 1 + 6 + 7 + 2 + 3);
  });

  it("still decodes a put or delete written in the general format (logs written before it)", () => {
    const general = frame({ ...envelope, requestId: "r", operation: { type: "put", key: "k", valueBytes: 2, condition: { ifVersion: 3 } } }, [7, 8]);
    const decoded = decodeCommand(general);
    expect(decoded).toEqual({ ok: true, command: { ...put, requestId: "r", operation: { ...put.operation, condition: { ifVersion: 3 } } } });
    expect(decodeCommand(frame({ ...envelope, operation: { type: "delete", key: "k" } }))).toEqual({ ok: true, command: commandOf({ type: "delete", key: "k" }) });
  });

  it("rejects unknown flags, bytes after the operation, a value too large and truncation", () => {
    const data = encodeCommand(put);
    const withFlags = (flags: number): Uint8Array => Uint8Array.of(data[0]!, flags, ...data.subarray(2));
    expect(reasonOf(withFlags(0b1_0000))).toMatch(/flags/);
    expect(reasonOf(withFlags(0b0110))).toMatch(/flags/);
    expect(reasonOf(withFlags(0b0001))).toMatch(/bytes follow the delete/);
    expect(reasonOf(Uint8Array.of(...data, 0))).toMatch(/bytes follow the put/);
    // The value's length (the varint before its 2 bytes) raised past valueBytesMax: 3 bytes of 7 bits.
    const tooLarge = valueBytesMax + 1;
    const lengthBytes = [(tooLarge & 0x7f) | 0x80, ((tooLarge >> 7) & 0x7f) | 0x80, tooLarge >> 14];
    expect(reasonOf(Uint8Array.of(...data.subarray(0, data.length - 3), ...lengthBytes, 7, 8))).toMatch(/too large/);
    for (let end = 1; end < data.length; end++) expect(reasonOf(data.subarray(0, end))).toMatch(/truncated/);
    const withRequestId = encodeCommand({ ...put, requestId: "r" });
    expect(decodeCommand(withRequestId)).toEqual({ ok: true, command: { ...put, requestId: "r" } });
    // The requestId flag with an empty requestId: a rule of the envelope.
    expect(reasonOf(Uint8Array.of(data[0]!, 0b1000, ...data.subarray(2, 16), 0, ...data.subarray(16)))).toMatch(/requestId/);
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
    expect(reasonOf(frame(put, [1, 2], 3))).toMatch(/format version/);
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
