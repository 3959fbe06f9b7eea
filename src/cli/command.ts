/** The shape of a CLI command: its flags, its usage line, and what it does. */
import type { ParseArgsConfig } from "node:util";
import type { EdgeraftClient } from "../client/index.ts";

/** Flag definitions in node:util parseArgs form. */
export type FlagSpecs = NonNullable<ParseArgsConfig["options"]>;

/** Parsed flag values. */
export type FlagValues = Record<string, string | boolean | undefined>;

/** What a running command gets. */
export interface CommandContext {
  /** The admin (or --token) client, scoped to --tenant when given. */
  readonly client: EdgeraftClient;
  /** The positional arguments after the command's name. */
  readonly positionals: readonly string[];
  readonly flags: FlagValues;
  /** True with --json: print JSON for scripts instead of tables. */
  readonly json: boolean;
}

/** One command: `name` (with its subcommand, like "groups ls"), flags, usage, and its run function returning the exit code. */
export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly flags: FlagSpecs;
  run(context: CommandContext): Promise<number>;
}

/** A string flag's value, or undefined. */
export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  return typeof value === "string" ? value : undefined;
}
