/**
 * Parsing of everything a request carries outside its body: keys and names in the path, the query
 * string, and precondition headers. Each parser returns a clean value or throws a 400 problem, so
 * no malformed input reaches the cluster. Percent-decoding is strict here (Hono's is lenient).
 */
import { keyProblemOf } from "../kv/index.ts";
import { scanLimitMax } from "../shared/limits.ts";
import type { Consistency, WriteCondition } from "./cluster.ts";
import { problem } from "./problem.ts";

/** Tenant names: lowercase letters, digits and dashes, starting with a letter or digit, 1..63 long. */
export const tenantNamePattern = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Names a group may have when looked up by path; wider than creatable names, so tenant groups fit. */
export const groupPathNamePattern = /^[a-z0-9][a-z0-9._-]{0,127}$/;
/** Scan page size when the request names none. */
export const scanLimitDefault = 100;

const consistencies: readonly Consistency[] = ["linearizable", "lease", "stale"];

/** The path of `request`, still percent-encoded (the URL parser has already removed dot segments). */
export function rawPathOf(request: Request): string {
  return new URL(request.url).pathname;
}

/** The `index`-th `/`-separated segment of `path` (0 is the empty one before the first `/`), still encoded. */
export function rawSegmentOf(path: string, index: number): string {
  return path.split("/")[index] ?? "";
}

/**
 * The key addressed by `path`: every segment from `firstSegment` on, joined by `/` and then
 * percent-decoded, so `/v1/kv/a/b` and `/v1/kv/a%2Fb` both address the key `a/b`.
 */
export function keyOfPath(path: string, firstSegment: number): string {
  const raw = path.split("/").slice(firstSegment).join("/");
  const key = strictDecode(raw);
  if (key === undefined) throw problem("badKey", "the key is not valid percent-encoded UTF-8");
  const reason = keyProblemOf(key);
  if (reason !== undefined) throw problem("badKey", reason);
  return key;
}

/** The tenant named by the encoded path segment `raw`, or undefined when it is not a valid tenant name. */
export function tenantNameOf(raw: string): string | undefined {
  const tenant = strictDecode(raw);
  return tenant !== undefined && tenantNamePattern.test(tenant) ? tenant : undefined;
}

/** The tenant named by the encoded path segment `raw`, or a thrown 400 badTenant. */
export function tenantOfSegment(raw: string): string {
  const tenant = tenantNameOf(raw);
  if (tenant === undefined) throw problem("badTenant", `tenant names match ${tenantNamePattern.source}`);
  return tenant;
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

/** The read consistency asked for (`linearizable` when absent), or a thrown 400 badConsistency. */
export function consistencyOf(query: Map<string, string>): Consistency {
  const asked = query.get("consistency");
  if (asked === undefined) return "linearizable";
  const found = consistencies.find((consistency) => consistency === asked);
  if (found === undefined) throw problem("badConsistency", `consistency must be one of ${consistencies.join(", ")}`);
  return found;
}

/** The scan page size asked for (scanLimitDefault when absent), or a thrown 400 badLimit. */
export function limitOf(query: Map<string, string>): number {
  const asked = query.get("limit");
  if (asked === undefined) return scanLimitDefault;
  const limit = /^[0-9]{1,7}$/.test(asked) ? Number(asked) : Number.NaN;
  if (!(limit >= 1 && limit <= scanLimitMax)) throw problem("badLimit", `limit must be an integer from 1 to ${scanLimitMax}`);
  return limit;
}

/** A scan bound (prefix, start or end) from the query: absent or empty means none; otherwise a valid key. */
export function scanBoundOf(query: Map<string, string>, name: "prefix" | "start" | "end"): string | undefined {
  const bound = query.get(name);
  if (bound === undefined || bound === "") return undefined;
  const reason = keyProblemOf(bound);
  if (reason !== undefined) throw problem("badQuery", `${name}: ${reason}`);
  return bound;
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
