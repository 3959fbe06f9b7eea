/**
 * The `edgeraft` command line: parses global flags and the command with node:util parseArgs,
 * builds a client, runs the command and returns its exit code (output.ts documents them).
 */
import { parseArgs } from "node:util";
import { EdgeraftClient } from "../client/index.ts";
import { adminCommands } from "./commands-admin.ts";
import { kvCommands } from "./commands-kv.ts";
import { replicaCommands } from "./commands-replicas.ts";
import type { Command, FlagSpecs } from "./command.ts";
import { resolveConnection } from "./connection.ts";
import { loadCommand } from "./load.ts";
import { describeError, exitCodeOf, exitCodes, UsageError } from "./output.ts";

/** Flags every command takes. */
const globalFlags: FlagSpecs = {
  url: { type: "string" },
  token: { type: "string" },
  tenant: { type: "string" },
  json: { type: "boolean" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
};

/** Every command, in the order --help lists them. */
export const commands: readonly Command[] = [...kvCommands, loadCommand, ...adminCommands, ...replicaCommands];

/** The --help text. */
export function helpText(): string {
  return [
    "usage: edgeraft [--url URL] [--token TOKEN] [--tenant NAME] [--json] [--timeout MS] COMMAND ...",
    "",
    ...commands.map((command) => `  ${command.usage}\n      ${command.summary}`),
    "",
    "URL and token: --url / --token, else EDGERAFT_URL / EDGERAFT_TOKEN, else http://127.0.0.1:8787",
    "and the ADMIN_TOKEN of ./.dev.vars (what `npm start` serves). --tenant NAME addresses the",
    "tenant's own keyspace. --json prints JSON (one object per line) for scripts.",
    "",
    "exit codes: 0 ok, 1 not found or condition failed (also: cluster unhealthy), 2 usage or a",
    "request the server refused as malformed or unauthorized, 3 server error or no answer.",
  ].join("\n");
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const command = commandOf(argv);
    if (command === undefined) {
      process.stdout.write(`${helpText()}\n`);
      return argv.includes("--help") || argv.includes("-h") || argv.length === 0 ? exitCodes.ok : exitCodes.usage;
    }
    const parsed = parseArgs({ args: [...argv], options: { ...globalFlags, ...command.flags }, allowPositionals: true, strict: true });
    const positionals = parsed.positionals.slice(command.name.split(" ").length);
    if (parsed.values.help === true) {
      process.stdout.write(`usage: edgeraft ${command.usage}\n  ${command.summary}\n`);
      return exitCodes.ok;
    }
    const flags = parsed.values as Record<string, string | boolean | undefined>;
    const connection = resolveConnection({ ...optional("url", flags.url), ...optional("token", flags.token) }, process.env, process.cwd());
    const timeoutMs = flags.timeout === undefined ? undefined : Number(flags.timeout);
    if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) throw new UsageError("--timeout takes a positive number of milliseconds");
    const admin = new EdgeraftClient({ url: connection.url, ...optional("token", connection.token), ...optional("timeoutMs", timeoutMs) });
    const tenant = typeof flags.tenant === "string" ? flags.tenant : undefined;
    const client = tenant === undefined ? admin : admin.tenant(tenant);
    return await command.run({ client, positionals, flags, json: flags.json === true });
  } catch (error) {
    const usage = error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS") ? new UsageError(error.message) : error;
    process.stderr.write(`${describeError(usage)}\n`);
    return exitCodeOf(usage);
  }
}

/** The command `argv` names (its first one or two positionals), or undefined. */
function commandOf(argv: readonly string[]): Command | undefined {
  const { tokens } = parseArgs({ args: [...argv], options: globalFlags, allowPositionals: true, strict: false, tokens: true });
  const words = tokens.filter((token) => token.kind === "positional").map((token) => token.value);
  if (words.length === 0) return undefined;
  const found =
    commands.find((command) => command.name === words.slice(0, 3).join(" ")) ?? // three words: groups replicas add
    commands.find((command) => command.name === `${words[0]} ${words[1] ?? ""}`) ?? commands.find((command) => command.name === words[0]);
  if (found === undefined) throw new UsageError(`unknown command "${words.slice(0, words[1] === "replicas" ? 3 : 2).join(" ")}"`);
  return found;
}

function optional<T>(name: string, value: T | undefined): Record<string, T> {
  return value === undefined ? {} : { [name]: value };
}
