/**
 * Finds the commands a Markdown page or a shell script names (`npm run X`, `npm start`, `npm test`,
 * `npx BIN SUBCOMMAND`, `deno task X`, `node FILE`) and checks them against the project: scripts in
 * package.json, tasks in deno.json, binaries, files, and what CI runs.
 */

/** One command a text names, with the line it is on (1-based). */
export interface NamedCommand {
  kind: "npm-script" | "npx" | "deno-task" | "node-file";
  /** The script or task name, `bin subcommand` for npx, or the file path for node. */
  name: string;
  line: number;
}

/** npm's own commands that run a package.json script of the same name. */
const npmScriptShorthands = new Set(["start", "test", "stop", "restart"]);

const commandPatterns: readonly { kind: NamedCommand["kind"]; pattern: RegExp }[] = [
  { kind: "npm-script", pattern: /\bnpm run(?:-script)? ([A-Za-z0-9:_.-]+)/g },
  { kind: "npm-script", pattern: /\bnpm (start|test|stop|restart)\b/g },
  { kind: "npx", pattern: /\bnpx ([A-Za-z0-9@/._-]+)(?: ([a-z][a-z-]*))?/g },
  { kind: "deno-task", pattern: /\bdeno task ([A-Za-z0-9:_.-]+)/g },
  { kind: "node-file", pattern: /\bnode (?:--[a-z-]+ )*([A-Za-z0-9_./-]+\.(?:ts|js|mjs))\b/g },
];

/** Every command `text` names, in order of appearance; shell comments count (they document too). */
export function namedCommands(text: string): NamedCommand[] {
  const found: NamedCommand[] = [];
  text.split("\n").forEach((lineText, index) => {
    for (const { kind, pattern } of commandPatterns) {
      for (const match of lineText.matchAll(pattern)) {
        const name = kind === "npx" && match[2] !== undefined ? `${match[1]} ${match[2]}` : match[1]!;
        found.push({ kind, name, line: index + 1 });
      }
    }
  });
  return found;
}

/**
 * The code of a Markdown page, line for line: fenced blocks whole, and of any other line only its
 * inline code spans (prose like "an npx binary" is not a command). Line numbers stay the page's.
 */
export function markdownCode(page: string): string {
  let fenced = false;
  return page
    .split("\n")
    .map((line) => {
      if (line.trimStart().startsWith("```")) {
        fenced = !fenced;
        return "";
      }
      if (fenced) return line;
      return [...line.matchAll(/`([^`]+)`/g)].map((match) => match[1]).join(" ; ");
    })
    .join("\n");
}

/** What a command can be checked against. */
export interface Project {
  scripts: Readonly<Record<string, string>>;
  /** Tasks of deno.json, or undefined when the project has none. */
  denoTasks: Readonly<Record<string, string>> | undefined;
  binaryExists(name: string): boolean;
  fileExists(path: string): boolean;
}

/** The commands of `commands` that name nothing in `project`, each with the reason. */
export function missingCommands(commands: readonly NamedCommand[], project: Project): string[] {
  const missing: string[] = [];
  for (const command of commands) {
    const where = `line ${command.line}`;
    if (command.kind === "npm-script" && !(command.name in project.scripts)) {
      missing.push(`${where}: npm script "${command.name}" is not in package.json`);
    } else if (command.kind === "deno-task" && !(project.denoTasks !== undefined && command.name in project.denoTasks)) {
      missing.push(`${where}: deno task "${command.name}" is not in deno.json`);
    } else if (command.kind === "npx" && !project.binaryExists(command.name.split(" ")[0]!)) {
      missing.push(`${where}: npx binary "${command.name.split(" ")[0]}" is neither installed nor this package's bin`);
    } else if (command.kind === "node-file" && !project.fileExists(command.name)) {
      missing.push(`${where}: node file "${command.name}" does not exist`);
    }
  }
  return missing;
}

/**
 * The npm scripts a CI script runs: those it names (outside comments), then, transitively, the
 * scripts those scripts call with `npm run`, `npm test` or `npm start`.
 */
export function scriptsRunBy(ciScript: string, scripts: Readonly<Record<string, string>>): Set<string> {
  const commandLines = ciScript.split("\n").filter((line) => !line.trimStart().startsWith("#")).join("\n");
  const pending = namedCommands(commandLines).filter((c) => c.kind === "npm-script").map((c) => c.name);
  const reached = new Set<string>();
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (reached.has(name)) continue;
    reached.add(name);
    const body = scripts[name];
    if (body === undefined) continue;
    for (const called of namedCommands(body)) if (called.kind === "npm-script") pending.push(called.name);
  }
  return reached;
}

/**
 * The commands of `documented` that CI does not run in any form: an npm script not reached from
 * the CI script, or an npx, deno task or node command whose words the CI script never uses.
 */
export function commandsNotInCi(documented: readonly NamedCommand[], ciScript: string, scripts: Readonly<Record<string, string>>): string[] {
  const reached = scriptsRunBy(ciScript, scripts);
  const ciCommands = namedCommands(ciScript.split("\n").filter((line) => !line.trimStart().startsWith("#")).join("\n"));
  const ciRuns = (command: NamedCommand): boolean =>
    command.kind === "npm-script"
      ? reached.has(command.name)
      : ciCommands.some((c) => c.kind === command.kind && c.name === command.name);
  const notRun = new Set<string>();
  for (const command of documented) {
    if (!ciRuns(command)) notRun.add(`line ${command.line}: ${describe(command)} is not run by CI`);
  }
  return [...notRun];
}

function describe(command: NamedCommand): string {
  switch (command.kind) {
    case "npm-script":
      return npmScriptShorthands.has(command.name) ? `npm ${command.name}` : `npm run ${command.name}`;
    case "npx":
      return `npx ${command.name}`;
    case "deno-task":
      return `deno task ${command.name}`;
    case "node-file":
      return `node ${command.name}`;
  }
}
