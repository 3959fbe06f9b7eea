/**
 * Proves src/kv stays pure (DESIGN.md): no async, clocks, timers, ambient randomness, fetch, crypto or
 * host modules, and imports only from itself and src/shared; by scanning every source file's
 * non-comment lines.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const folder = join(import.meta.dirname, "../../src/kv");
const forbidden = /\bDate\b|Math\.random\(|setTimeout\(|setInterval\(|queueMicrotask\(|\bfetch\(|\bcrypto\b|\bDeno\.|\basync\s|\bawait\s|\bprocess\./;

function codeLinesOf(file: string): string[] {
  return readFileSync(join(folder, file), "utf8")
    .split("\n")
    .filter((line) => !/^\s*(\/\/|\*|\/\*)/.test(line));
}

describe("src/kv purity", () => {
  const files = readdirSync(folder).filter((file) => file.endsWith(".ts"));

  it("has source files to check", () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it.each(files)("%s uses no clock, timer, randomness, async, fetch or crypto", (file) => {
    expect(codeLinesOf(file).filter((line) => forbidden.test(line))).toEqual([]);
  });

  it.each(files)("%s imports only from src/kv and src/shared", (file) => {
    const imports = codeLinesOf(file).flatMap((line) => [...line.matchAll(/from\s+"([^"]+)"/g)].map((match) => match[1] as string));
    expect(imports.filter((path) => !path.startsWith("./") && !path.startsWith("../shared/"))).toEqual([]);
  });

  it.each(files)("%s stays under 400 lines", (file) => {
    expect(readFileSync(join(folder, file), "utf8").split("\n").length).toBeLessThan(400);
  });
});
