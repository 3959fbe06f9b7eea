// Proves that every command the README and docs/ name exists (npm scripts in package.json, deno
// tasks in deno.json, npx binaries, node files) and that CI (.ci/run) runs every command the README
// names in some form, so a documented command cannot break unnoticed.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { commandsNotInCi, markdownCode, missingCommands, namedCommands, scriptsRunBy, type Project } from "./support/documented-commands.ts";

const packageJson = JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string>; bin?: string | Record<string, string>; name: string };
const ciScript = readFileSync(".ci/run", "utf8");

function denoTasks(): Record<string, string> | undefined {
  for (const file of ["deno.json", "deno.jsonc"]) {
    if (existsSync(file)) return (JSON.parse(readFileSync(file, "utf8")) as { tasks?: Record<string, string> }).tasks ?? {};
  }
  return undefined;
}

function ownBinaries(): string[] {
  if (packageJson.bin === undefined) return [];
  return typeof packageJson.bin === "string" ? [packageJson.name] : Object.keys(packageJson.bin);
}

const project: Project = {
  scripts: packageJson.scripts,
  denoTasks: denoTasks(),
  binaryExists: (name) => existsSync(`node_modules/.bin/${name}`) || ownBinaries().includes(name),
  fileExists: (path) => existsSync(path),
};

/** The commands a Markdown page names in its code (fenced blocks and inline code spans). */
function pageCommands(path: string): ReturnType<typeof namedCommands> {
  return namedCommands(markdownCode(readFileSync(path, "utf8")));
}

const documentedPages = ["README.md", ...readdirSync("docs").filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

describe("documented commands", () => {
  it("the README names the commands a user starts with", () => {
    const names = pageCommands("README.md").map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(["start", "test", "bench:engine", "wrangler deploy"]));
  });

  it.each(documentedPages)("every command %s names exists", (page) => {
    expect(missingCommands(pageCommands(page), project)).toEqual([]);
  });

  it("CI runs every command the README names, in some form", () => {
    expect(commandsNotInCi(pageCommands("README.md"), ciScript, packageJson.scripts)).toEqual([]);
  });
});

describe("the command finder", () => {
  const page = [
    "Run `npm run deno:cluster -- --nodes 3`, then `npm start` and `npm test`.",
    "```sh",
    "npx edgeraft put greeting hello   # the CLI",
    "deno task node --id 1",
    "node scripts/missing.ts --flag",
    "node --expose-gc scripts/bench-engine.ts",
    "```",
  ].join("\n");

  it("reads only the code of a Markdown page, keeping its line numbers", () => {
    const markdown = "Prose naming an npx binary and `npm run bench` inline.\n```sh\nnpm start\n```\nnpm run prose-only";
    expect(namedCommands(markdownCode(markdown))).toEqual([
      { kind: "npm-script", name: "bench", line: 1 },
      { kind: "npm-script", name: "start", line: 3 },
    ]);
  });

  it("finds npm scripts, npm shorthands, npx subcommands, deno tasks and node files with their lines", () => {
    expect(namedCommands(page)).toEqual([
      { kind: "npm-script", name: "deno:cluster", line: 1 },
      { kind: "npm-script", name: "start", line: 1 },
      { kind: "npm-script", name: "test", line: 1 },
      { kind: "npx", name: "edgeraft put", line: 3 },
      { kind: "deno-task", name: "node", line: 4 },
      { kind: "node-file", name: "scripts/missing.ts", line: 5 },
      { kind: "node-file", name: "scripts/bench-engine.ts", line: 6 },
    ]);
  });

  it("reports what a page names that the project lacks", () => {
    const lacking: Project = { scripts: { start: "x", test: "y" }, denoTasks: undefined, binaryExists: () => false, fileExists: (path) => path === "scripts/bench-engine.ts" };
    expect(missingCommands(namedCommands(page), lacking)).toEqual([
      'line 1: npm script "deno:cluster" is not in package.json',
      'line 3: npx binary "edgeraft" is neither installed nor this package\'s bin',
      'line 4: deno task "node" is not in deno.json',
      'line 5: node file "scripts/missing.ts" does not exist',
    ]);
  });

  it("follows the scripts CI runs through the scripts they call, and ignores commented-out lines", () => {
    const scripts = { test: "npm run test:unit && npm run sim:ci", "test:unit": "vitest run", "sim:ci": "node scripts/sim.ts", chaos: "node scripts/chaos.ts", bench: "node scripts/bench.ts" };
    const ci = "npm ci\nnpm test\n# npm run bench\nnpm run chaos -- --quick\n";
    expect([...scriptsRunBy(ci, scripts)].sort()).toEqual(["chaos", "sim:ci", "test", "test:unit"]);
    const readme = "`npm run test:unit`, `npm run bench`, `npx wrangler deploy`, `npm run chaos`";
    expect(commandsNotInCi(namedCommands(readme), ci, scripts)).toEqual([
      "line 1: npm run bench is not run by CI",
      "line 1: npx wrangler deploy is not run by CI",
    ]);
  });
});
