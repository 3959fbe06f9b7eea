/**
 * Proves the layering rule of DESIGN.md: the pure folders (src/raft, src/kv, src/multiraft,
 * src/shared, src/checker) use no clock, no ambient randomness, no timers, no I/O, no async and
 * no host imports, and imports only point down the layer chain. It scans the source text.
 */
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const pureFolders = ["src/raft", "src/kv", "src/multiraft", "src/shared", "src/checker"];
const forbidden: [string, RegExp][] = [
  ["Date", /\bDate\.now\(|\bnew Date\(/],
  ["Math.random", /\bMath\.random\(/],
  ["timers", /\b(setTimeout|setInterval|setImmediate|queueMicrotask)\(/],
  ["fetch", /\bfetch\(/],
  ["crypto", /\bcrypto\./],
  ["async", /\basync\s|\bawait\s/],
  ["host import", /from\s+["'](cloudflare:|node:|hono|itty-router|@cloudflare\/)/],
  ["Deno", /\bDeno\./],
  ["process", /\bprocess\.(env|argv|hrtime)/],
];
// Allowed imports per layer: each folder may import itself and the layers below it.
const allowedImports: Record<string, string[]> = {
  "src/shared": ["shared"],
  "src/raft": ["shared", "raft"],
  "src/kv": ["shared", "kv"],
  "src/checker": ["shared", "checker"],
  "src/multiraft": ["shared", "raft", "kv", "multiraft"],
};

function sourceFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => join(folder, file));
}

function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "").replace(/\s\/\/.*$/gm, "");
}

describe("pure layers", () => {
  for (const folder of pureFolders) {
    for (const file of sourceFiles(folder)) {
      it(`${file} does no I/O, reads no clock, draws no ambient randomness`, () => {
        const code = withoutComments(readFileSync(file, "utf8"));
        for (const [what, pattern] of forbidden) expect(pattern.test(code), `${file} uses ${what}`).toBe(false);
      });
      it(`${file} imports only its own layer and those below`, () => {
        const code = readFileSync(file, "utf8");
        for (const match of code.matchAll(/from\s+["'](\.[^"']+)["']/g)) {
          const target = join(file, "..", match[1]!);
          const layer = target.split("/")[1]!;
          expect(allowedImports[folder], `${file} imports ${target}`).toContain(layer);
        }
      });
    }
  }

  it("the scanner itself catches an impure line", () => {
    const code = withoutComments("const now = Date.now();\n// Math.random() in a comment is fine\n");
    expect(forbidden.some(([, pattern]) => pattern.test(code))).toBe(true);
    expect(/Math\.random/.test(code)).toBe(false);
  });
});
