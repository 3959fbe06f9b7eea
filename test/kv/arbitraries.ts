/** fast-check generators of keys, values and commands shared by the KV tests, plus a byte-order oracle. */
import fc from "fast-check";
import type { BatchStep, Command, Condition, Operation } from "../../src/kv/command.ts";

/** Any key: 1 to 12 code points drawn from all of Unicode (surrogate pairs included, no lone surrogates). */
export const anyKey = fc.string({ unit: "binary", minLength: 1, maxLength: 12 });

/** A key from a small pool, so that random operations hit the same keys often. */
export const pooledKey = fc.constantFrom("a", "ab", "b", "b\u00e9", "\uff61", "\u{1f600}", "z/1", "z/2");

/** Any value bytes. */
export const anyValue = fc.uint8Array({ maxLength: 48 });

/** Any condition, or none. */
export function conditionOrNone(version: fc.Arbitrary<number>): fc.Arbitrary<Condition | undefined> {
  return fc.oneof(
    fc.constant(undefined),
    version.map((ifVersion): Condition => ({ ifVersion })),
    fc.constant<Condition>({ ifAbsent: true }),
  );
}

/** A put, delete or check on keys from `key`, with versions from `version`. */
export function batchStep(key: fc.Arbitrary<string>, version: fc.Arbitrary<number>): fc.Arbitrary<BatchStep> {
  return fc.oneof(
    fc.tuple(key, anyValue, conditionOrNone(version)).map(([stepKey, value, condition]): BatchStep =>
      condition === undefined ? { type: "put", key: stepKey, value } : { type: "put", key: stepKey, value, condition },
    ),
    fc.tuple(key, conditionOrNone(version)).map(([stepKey, condition]): BatchStep =>
      condition === undefined ? { type: "delete", key: stepKey } : { type: "delete", key: stepKey, condition },
    ),
    fc.tuple(key, version).map(([stepKey, ifVersion]): BatchStep => ({ type: "check", key: stepKey, ifVersion })),
  );
}

/** Any operation on keys from `key`, with versions from `version`. */
export function operation(key: fc.Arbitrary<string>, version: fc.Arbitrary<number>): fc.Arbitrary<Operation> {
  const step = batchStep(key, version);
  return fc.oneof(
    { weight: 4, arbitrary: step.filter((generated) => generated.type !== "check") as fc.Arbitrary<Operation> },
    { weight: 2, arbitrary: fc.array(step, { minLength: 1, maxLength: 6 }).map((ops): Operation => ({ type: "batch", ops })) },
    { weight: 1, arbitrary: fc.constant<Operation>({ type: "noop" }) },
  );
}

/** Any valid command, with keys and client ids from all of Unicode and versions up to the largest safe integer. */
export const anyCommand: fc.Arbitrary<Command> = fc
  .record(
    {
      clientId: fc.string({ unit: "binary", minLength: 1, maxLength: 16 }),
      seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      timeMs: fc.maxSafeNat(),
      requestId: fc.string({ unit: "binary", minLength: 1, maxLength: 16 }),
      operation: operation(anyKey, fc.maxSafeNat()),
    },
    { requiredKeys: ["clientId", "seq", "timeMs", "operation"] },
  );

/** Byte order of the UTF-8 encodings of two strings: the oracle for compareKeys. */
export function compareUtf8Bytes(left: string, right: string): number {
  const leftBytes = new TextEncoder().encode(left);
  const rightBytes = new TextEncoder().encode(right);
  const length = Math.min(leftBytes.length, rightBytes.length);
  for (let index = 0; index < length; index++) {
    const difference = (leftBytes[index] as number) - (rightBytes[index] as number);
    if (difference !== 0) return difference;
  }
  return leftBytes.length - rightBytes.length;
}
