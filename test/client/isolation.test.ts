/**
 * Proves the typed client stays portable: every file of src/client imports only other files of
 * src/client (no server code, no node: or host modules, no packages), so it bundles alone into
 * Node, Deno, a browser or a Worker. It scans the source text.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const folder = "src/client";
const files = readdirSync(folder).filter((file) => file.endsWith(".ts"));

describe("src/client imports", () => {
  it("has files to check", () => expect(files.length).toBeGreaterThan(3));
  for (const file of files) {
    it(`${file} imports only its siblings and uses no Node globals`, () => {
      const code = readFileSync(join(folder, file), "utf8");
      for (const match of code.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) expect(match[1], `${file} imports ${match[1]}`).toMatch(/^\.\/[a-z-]+\.ts$/);
      expect(/\b(Buffer|process|require)\b[.(]/.test(code), `${file} uses a Node global`).toBe(false);
    });
  }
});
