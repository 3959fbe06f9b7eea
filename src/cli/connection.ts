/**
 * Where the CLI connects and with which token: flags first, then EDGERAFT_URL / EDGERAFT_TOKEN,
 * then the local `npm start` (http://127.0.0.1:8787) and the ADMIN_TOKEN of its `.dev.vars`.
 */
import { existsSync, readFileSync } from "node:fs";

/** The URL `npm start` serves. */
export const localUrl = "http://127.0.0.1:8787";

/** The URL and token to use. */
export interface Connection {
  readonly url: string;
  readonly token: string | undefined;
}

/** Resolves the connection from flags, the environment and `.dev.vars` in `directory`. */
export function resolveConnection(flags: { url?: string; token?: string }, environment: NodeJS.ProcessEnv, directory: string): Connection {
  const url = flags.url ?? nonEmpty(environment.EDGERAFT_URL) ?? localUrl;
  const token = flags.token ?? nonEmpty(environment.EDGERAFT_TOKEN) ?? devVarsToken(`${directory}/.dev.vars`);
  return { url, token };
}

/** ADMIN_TOKEN from a .dev.vars file (KEY=value lines, optional quotes), or undefined. */
export function devVarsToken(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  for (const line of readFileSync(path, "utf8").split(/\r?\n/)) {
    const match = /^\s*ADMIN_TOKEN\s*=\s*(.*?)\s*$/.exec(line);
    if (match !== null) return nonEmpty(match[1]!.replace(/^(["'])(.*)\1$/, "$2"));
  }
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
