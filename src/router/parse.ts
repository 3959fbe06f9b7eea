/**
 * The raw material of a request outside its body: the still-encoded path, the query string decoded
 * strictly (Hono's decoding is lenient), and the precondition headers. Path and query parameters
 * are validated by their zod schemas (parameters.ts, through route-input.ts), not here.
 */
import type { WriteCondition } from "./cluster.ts";
import { problem } from "./problem.ts";

/** Tenant names: lowercase letters, digits and dashes, starting with a letter or digit, 1..63 long. */
export const tenantNamePattern = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Names a group may have when looked up by path; wider than creatable names, so tenant groups fit. */
export const groupPathNamePattern = /^[a-z0-9][a-z0-9._-]{0,127}$/;
/** Scan page size when the request names none. */
export const scanLimitDefault = 100;

/** The path of `request`, still percent-encoded (the URL parser has already removed dot segments). */
export function rawPathOf(request: Request): string {
  return new URL(request.url).pathname;
}

/** The `index`-th `/`-separated segment of `path` (0 is the empty one before the first `/`), still encoded. */
export function rawSegmentOf(path: string, index: number): string {
  return path.split("/")[index] ?? "";
}

/** The decoded text of `raw`, or undefined when its percent-encoding is malformed or not UTF-8. */
export function strictDecode(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/**
 * The query string of `request` as name → value, decoded strictly (`+` is a space). Malformed
 * encoding, or a name from `singleNames` given twice, is a 400 badQuery.
 */
export function queryOf(request: Request, singleNames: readonly string[]): Map<string, string> {
  const search = new URL(request.url).search.slice(1);
  const query = new Map<string, string>();
  for (const part of search.split("&")) {
    if (part === "") continue;
    const equals = part.indexOf("=");
    const name = strictDecode((equals === -1 ? part : part.slice(0, equals)).replaceAll("+", " "));
    const value = strictDecode(equals === -1 ? "" : part.slice(equals + 1).replaceAll("+", " "));
    if (name === undefined || value === undefined) throw problem("badQuery", "the query string is not valid percent-encoded UTF-8");
    if (query.has(name) && singleNames.includes(name)) throw problem("badQuery", `the query parameter ${name} is given more than once`);
    query.set(name, value);
  }
  return query;
}

/**
 * The write condition of a PUT (`allowIfNoneMatch`) or DELETE from its headers: `If-Match: "<version>"`
 * (strong, one version) or `If-None-Match: *`; undefined for none. Anything else is a 400 badPrecondition.
 */
export function writeConditionOf(headers: Headers, allowIfNoneMatch: boolean): WriteCondition | undefined {
  const ifMatch = headers.get("if-match");
  const ifNoneMatch = headers.get("if-none-match");
  if (ifMatch !== null && ifNoneMatch !== null) throw problem("badPrecondition", "send If-Match or If-None-Match, not both");
  if (ifNoneMatch !== null) {
    if (!allowIfNoneMatch) throw problem("badPrecondition", "If-None-Match is not supported on this method");
    if (ifNoneMatch.trim() !== "*") throw problem("badPrecondition", "If-None-Match must be * (create only)");
    return { ifAbsent: true };
  }
  if (ifMatch === null) return undefined;
  const match = /^"(0|[1-9][0-9]{0,15})"$/.exec(ifMatch.trim());
  const version = match === null ? Number.NaN : Number(match[1]);
  if (!Number.isSafeInteger(version)) {
    throw problem("badPrecondition", 'If-Match must be one strong entity tag holding a version, like "42"');
  }
  return { ifVersion: version };
}
