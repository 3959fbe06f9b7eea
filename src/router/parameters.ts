/**
 * The path and query parameters of the API as zod schemas: GET /openapi.json is generated from
 * them and route-input.ts validates requests with them. Each names the problem its refusal answers,
 * the stable codes of the hand parsers they replaced: badKey, badTenant, groupNotFound,
 * replicaNotFound, badConsistency, badLimit, badQuery.
 */
import { z } from "zod";
import { keyProblemOf } from "../kv/index.ts";
import { keyBytesMax, scanLimitMax } from "../shared/limits.ts";
import { groupPathNamePattern, scanLimitDefault, tenantNamePattern } from "./parse.ts";
import { parseParameter, withProblem } from "./route-input.ts";

/** Longest scan cursor accepted, in characters (cursors are opaque, made by the cluster). */
export const cursorCharsMax = 8192;

/** A key that keyProblemOf accepts (non-empty, at most keyBytesMax bytes of valid UTF-8). */
const keySchema = z.string().superRefine((key, context) => {
  const reason = keyProblemOf(key);
  if (reason !== undefined) context.addIssue({ code: "custom", message: reason });
});

/** Path parameter `key`: the rest of the path, percent-decoded; `/` inside a key is allowed. */
export const keyParamSchema = withProblem("badKey", keySchema.describe(`The key: URL-encoded UTF-8, at most ${keyBytesMax} bytes; the rest of the path, so it may contain /.`));
/** Path parameter `tenant`. */
export const tenantParamSchema = withProblem("badTenant", z.string().regex(tenantNamePattern, `tenant names match ${tenantNamePattern.source}`).describe("The tenant's name."));
/** Path parameter `name` of a group (a name no group can have is a group not found). */
export const groupParamSchema = withProblem("groupNotFound", z.string().regex(groupPathNamePattern, "no group has that name").describe("The group's name."));
/** Path parameter `id` of a replica: a positive integer. */
export const replicaIdParamSchema = withProblem("replicaNotFound", z.string().regex(/^[1-9][0-9]{0,8}$/, "replica ids are positive integers").transform(Number).describe("The replica's id."));

/** Path parameters of a shared-keyspace key route. */
export const keyParams = z.object({ key: keyParamSchema });
/** Path parameters of a tenant key route. */
export const tenantKeyParams = z.object({ tenant: tenantParamSchema, key: keyParamSchema });
/** Path parameters of a tenant route. */
export const tenantParams = z.object({ tenant: tenantParamSchema });
/** Path parameters of a group route. */
export const groupParams = z.object({ name: groupParamSchema });
/** Path parameters of a replica route. */
export const replicaParams = z.object({ name: groupParamSchema, id: replicaIdParamSchema });

const consistencySchema = withProblem("badConsistency", z.enum(["linearizable", "lease", "stale"], { error: "must be one of linearizable, lease, stale" })
  .describe("Read consistency; linearizable (ReadIndex) when absent."));

/** A scan bound: empty means none, otherwise a valid key. */
function scanBoundSchema(description: string) {
  return withProblem("badQuery", z.string().superRefine((bound, context) => {
    const reason = bound === "" ? undefined : keyProblemOf(bound);
    if (reason !== undefined) context.addIssue({ code: "custom", message: reason });
  }).transform((bound) => (bound === "" ? undefined : bound)).describe(description)).optional();
}

/** A count in a query: decimal digits, at most `digitsMax` of them, from `minimum` to `maximum`. */
function countSchema(options: { code: "badLimit" | "badQuery"; digitsMax: number; minimum: number; maximum: number; description: string }) {
  const message = `must be an integer from ${options.minimum} to ${options.maximum}`;
  return withProblem(options.code, z.string().regex(new RegExp(`^[0-9]{1,${options.digitsMax}}$`), message)
    .refine((text) => Number(text) >= options.minimum && Number(text) <= options.maximum, message)
    .transform(Number).describe(options.description)).optional();
}

/** Query of GET /v1/kv/{key}. */
export const readQuery = z.object({ consistency: consistencySchema.optional() });
/** Query of the scan GET /v1/kv. */
export const scanQuery = z.object({
  prefix: scanBoundSchema("Only keys starting with this."),
  start: scanBoundSchema("First key (inclusive)."),
  end: scanBoundSchema("Last key (exclusive)."),
  limit: countSchema({ code: "badLimit", digitsMax: 7, minimum: 1, maximum: scanLimitMax, description: `Page size, 1..${scanLimitMax}; default ${scanLimitDefault}.` }),
  cursor: withProblem("badQuery", z.string().max(cursorCharsMax, `is longer than ${cursorCharsMax} characters`)
    .transform((cursor) => (cursor === "" ? undefined : cursor)).describe("Opaque cursor from the previous page.")).optional(),
  consistency: consistencySchema.optional(),
});
/** Query of GET /v1/health. */
export const healthQuery = z.object({
  lagEntries: countSchema({ code: "badQuery", digitsMax: 9, minimum: 0, maximum: 999_999_999, description: "Overrides the lag limit in entries for this request." }),
  lagSeconds: countSchema({ code: "badQuery", digitsMax: 6, minimum: 0, maximum: 999_999, description: "Overrides the lag limit in seconds for this request." }),
});

/** The tenant named by the encoded path segment `raw`, or undefined when it is not a valid tenant name. */
export function tenantNameOf(raw: string): string | undefined {
  try {
    return tenantOfSegment(raw);
  } catch {
    return undefined;
  }
}

/** The tenant named by the encoded path segment `raw` (parsed by tenantParamSchema), or a thrown 400 badTenant. */
export function tenantOfSegment(raw: string): string {
  return parseParameter(tenantParamSchema, "tenant", raw);
}
