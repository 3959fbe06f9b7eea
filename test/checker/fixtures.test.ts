/**
 * Proves the verdicts on the hand-made histories in test/fixtures/histories: every `pass-*` file is
 * linearizable and every `fail-*` file is not, with the violation reported on the right key and
 * blamed on the operation that cannot be ordered. Each file is parsed and checked through the API.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkHistory, type CheckResult } from "../../src/checker/check.ts";
import { describeKeyFailure } from "../../src/checker/format.ts";
import { parseHistory } from "../../src/checker/parse.ts";

const folder = join(import.meta.dirname, "../fixtures/histories");

/** What each failing history must report: the key and the index of the operation that cannot be placed. */
const violations: Record<string, { key: string; blocking: number; valueAfterPrefix: string | null }> = {
  "fail-stale-read.jsonl": { key: "x", blocking: 3, valueAfterPrefix: "2" },
  "fail-lost-write.jsonl": { key: "x", blocking: 2, valueAfterPrefix: "2" },
  "fail-read-never-written.jsonl": { key: "x", blocking: 2, valueAfterPrefix: "1" },
  "fail-cas-succeeded-twice.jsonl": { key: "c", blocking: 2, valueAfterPrefix: "1" },
  "fail-read-null-after-write.jsonl": { key: "x", blocking: 1, valueAfterPrefix: "1" },
  "fail-read-before-info-write.jsonl": { key: "x", blocking: 0, valueAfterPrefix: null },
};

function check(file: string): CheckResult {
  const parsed = parseHistory(readFileSync(join(folder, file), "utf8"));
  expect(parsed.ok, `${file} parses`).toBe(true);
  if (!parsed.ok) throw new Error(parsed.message);
  return checkHistory(parsed.operations);
}

const files = readdirSync(folder).filter((file) => file.endsWith(".jsonl")).sort();

describe("hand-made histories", () => {
  it("cover every scenario the checker promises", () => {
    const names = files.map((file) => file.replace(/\.jsonl$/, ""));
    expect(names).toEqual(
      expect.arrayContaining([
        "pass-concurrent-writes",
        "pass-info-write-observed",
        "pass-info-write-never-observed",
        "pass-cas-chain",
        "pass-delete-then-read",
        "pass-many-keys",
      ]),
    );
    for (const file of files) expect(file.startsWith("pass-") || file in violations, `${file} has an expectation`).toBe(true);
  });

  for (const file of files.filter((name) => name.startsWith("pass-"))) {
    it(`${file} is linearizable`, () => {
      const result = check(file);
      expect(result.outcome).toBe("linearizable");
      expect(result.linearizable).toBe(true);
      expect(result.keys.every((key) => key.linearizable && key.failure === null)).toBe(true);
    });
  }

  for (const [file, expected] of Object.entries(violations)) {
    it(`${file} is not linearizable, on key ${expected.key}, blamed on operation #${expected.blocking}`, () => {
      const result = check(file);
      expect(result.outcome).toBe("violation");
      expect(result.linearizable).toBe(false);
      const failing = result.keys.filter((key) => key.outcome === "violation");
      expect(failing.map((key) => key.key)).toEqual([expected.key]);
      const failure = failing[0]!.failure!;
      expect(failure.blocking.index).toBe(expected.blocking);
      expect(failure.candidates).toContain(failure.blocking);
      expect(failure.valueAfterPrefix).toBe(expected.valueAfterPrefix);
      expect(failure.prefix).not.toContain(failure.blocking);
      expect(describeKeyFailure(failing[0]!).join("\n")).toContain(`#${expected.blocking} process`);
    });
  }

  it("reports the many-keys history per key, sorted, with each key's operation count", () => {
    const result = check("pass-many-keys.jsonl");
    expect(result.keys.map((key) => [key.key, key.operationsCount])).toEqual([
      ["a", 4],
      ["b", 3],
      ["c", 4],
      ["d", 1],
    ]);
    expect(result.operationsCount).toBe(12);
    expect(result.keysCount).toBe(4);
  });
});
