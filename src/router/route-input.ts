/**
 * Validation of a request's path and query parameters by the zod schemas its route documents in
 * GET /openapi.json (OperationDoc.params and .query): the document and the check are one schema.
 * Each parameter schema names the stable problem code its refusal answers (`withProblem`), so a bad
 * key is still a 400 badKey and an unknown group name a 404 groupNotFound. addRoute notes which
 * route a request matched; the guard parses its parameters once the caller is authorized (so a
 * caller without a token still gets 401 first); handlers read the parsed values by naming the
 * same schema, which is checked to be the documented one.
 */
import { z } from "zod";
import { assert } from "../shared/assert.ts";
import type { OperationDoc } from "./openapi/operation.ts";
import { queryOf, rawPathOf, strictDecode } from "./parse.ts";
import { problem, type ProblemCode } from "./problem.ts";

/** The problem code each parameter schema answers when it refuses a value. */
export const parameterProblems = z.registry<{ problem: ProblemCode }>();

/** `schema`, registered to answer `code` when it refuses a value (wrap it last: a copy made after is not registered). */
export function withProblem<Schema extends z.ZodType>(code: ProblemCode, schema: Schema): Schema {
  parameterProblems.add(schema, { problem: code });
  return schema;
}

/** The route a request matched: its Hono pattern and its description. */
interface MatchedRoute {
  readonly path: string;
  readonly doc: OperationDoc;
}

/** The parameters of a request, parsed by its route's documented schemas. */
interface ParsedInput {
  readonly doc: OperationDoc;
  readonly params: unknown;
  readonly query: unknown;
}

const matchedRoutes = new WeakMap<Request, MatchedRoute>();
const parsedInputs = new WeakMap<Request, ParsedInput>();
const patternExpressions = new Map<string, RegExp>();

/** Notes that `request` matched the Hono pattern `path`, described by `doc` (addRoute calls it before the guard). */
export function noteMatchedRoute(request: Request, path: string, doc: OperationDoc): void {
  if (doc.params === undefined && doc.query === undefined) return;
  matchedRoutes.set(request, { path, doc });
}

/**
 * Parses the documented path and query parameters of `request` (a no-op for a route that documents
 * none); a refused value is thrown as its schema's problem. The guards call it once the caller is
 * authorized.
 */
export function parseRouteInput(request: Request): void {
  const matched = matchedRoutes.get(request);
  if (matched === undefined) return;
  const { doc, path } = matched;
  const params = doc.params === undefined ? {} : parseFields(doc.params, rawParametersOf(path, rawPathOf(request)), { decode: true, fallback: "badRequest" });
  const query = doc.query === undefined
    ? {}
    : parseFields(doc.query, Object.fromEntries(queryOf(request, Object.keys(doc.query.shape))), { decode: false, fallback: "badQuery" });
  parsedInputs.set(request, { doc, params, query });
}

/** The path parameters of `request` as parsed by `schema`, which must be the params its route documents. */
export function pathParametersOf<Schema extends z.ZodObject>(request: Request, schema: Schema): z.output<Schema> {
  const parsed = parsedInputs.get(request);
  assert(parsed !== undefined && parsed.doc.params === schema, "path parameters are read with the schema their route documents, after its guard");
  return parsed.params as z.output<Schema>;
}

/** The query parameters of `request` as parsed by `schema`, which must be the query its route documents. */
export function queryParametersOf<Schema extends z.ZodObject>(request: Request, schema: Schema): z.output<Schema> {
  const parsed = parsedInputs.get(request);
  assert(parsed !== undefined && parsed.doc.query === schema, "query parameters are read with the schema their route documents, after its guard");
  return parsed.query as z.output<Schema>;
}

/** One parameter value outside a route: `raw` (percent-encoded) decoded and parsed by `schema`, or its problem thrown. */
export function parseParameter<Schema extends z.ZodType>(schema: Schema, name: string, raw: string): z.output<Schema> {
  const fields = parseFields(z.object({ [name]: schema }), { [name]: raw }, { decode: true, fallback: "badRequest" });
  return (fields as Record<string, z.output<Schema>>)[name] as z.output<Schema>;
}

/** `values` parsed by the object `schema`; the first refused field is thrown as the problem its schema names. */
function parseFields(schema: z.ZodObject, values: Record<string, string>, options: { decode: boolean; fallback: ProblemCode }): unknown {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    const text = options.decode ? strictDecode(value) : value;
    if (text === undefined) throw problem(problemOfField(schema, name, options.fallback), `${name}: not valid percent-encoded UTF-8`);
    decoded[name] = text;
  }
  const result = schema.safeParse(decoded);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = String(issue?.path[0] ?? "");
  throw problem(problemOfField(schema, name, options.fallback), `${name}: ${issue?.message ?? "refused"}`);
}

/** The problem code registered for the field `name` of `schema` (looking through optional), else `fallback`. */
export function problemOfField(schema: z.ZodObject, name: string, fallback: ProblemCode): ProblemCode {
  let field: unknown = schema.shape[name];
  while (field instanceof z.ZodOptional) field = field.unwrap();
  return field instanceof z.ZodType ? (parameterProblems.get(field)?.problem ?? fallback) : fallback;
}

/** The still-encoded parameters of the Hono pattern `path` (`:name`, or `:name{regex}`) in `rawPath`. */
export function rawParametersOf(path: string, rawPath: string): Record<string, string> {
  let expression = patternExpressions.get(path);
  if (expression === undefined) {
    const source = path.split("/").map((segment) => {
      const parameter = /^:([A-Za-z0-9_]+)(?:\{(.*)\})?$/.exec(segment);
      if (parameter === null) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      return `(?<${parameter[1]}>${parameter[2] ?? "[^/]+"})`;
    }).join("/");
    expression = new RegExp(`^${source}$`);
    patternExpressions.set(path, expression);
  }
  const match = expression.exec(rawPath);
  // The router matched this pattern on the same path: only a path this parser reads differently fails.
  if (match === null) throw problem("routeNotFound", "the path does not match its route");
  return { ...match.groups };
}
