/**
 * How a route describes itself for GET /openapi.json: next to its handler, each route names the
 * zod schemas its handler validates with (path parameters, query, headers, JSON body), its answers
 * and the problem codes it can answer. `addRoute` registers the description in the app's OpenAPI
 * registry (Hono's `@hono/zod-openapi`), so the document is generated from the schemas themselves.
 */
import { OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import { z } from "zod";
import { problemCatalog, type ProblemCode } from "../problem.ts";

type ResponseConfig = Exclude<RouteConfig["responses"][string], { $ref: string }>;

/** Who may call an operation; set by the guard the handler is wrapped in. */
export type Access = "open" | "admin" | "data";

/** One answer an operation gives on success (or as its meaning, like health's 503). */
export interface AnswerDoc {
  readonly description: string;
  /** The body schema (JSON unless `contentType` says otherwise); none for an empty or free-form body. */
  readonly schema?: z.ZodType;
  readonly contentType?: string;
  /** Response headers worth naming, name → description. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The description of one method on one path. */
export interface OperationDoc {
  readonly summary: string;
  readonly description?: string;
  /** Groups operations on the /docs page and in tools (keys, groups, tenants, service, ...). */
  readonly tag: string;
  /** Path parameters, named as in the Hono pattern (`:key{.*}` is `key`). */
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly headers?: z.ZodObject;
  /** The request body: the same schema the handler parses with, or raw bytes when contentType is not JSON. */
  readonly body?: { readonly schema: z.ZodType; readonly contentType?: string; readonly description?: string };
  /** Answers by status code. */
  readonly answers: Readonly<Record<number, AnswerDoc>>;
  /** Problem codes this operation answers beyond those of its access (401/403/503 come with admin and data). */
  readonly problems: readonly ProblemCode[];
}

/** The body of every error answer: RFC 9457 problem details with a stable `code`. */
export const problemSchema = z
  .object({
    type: z.string().describe("https://edgeraft.dev/problems/<code>"),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(Object.keys(problemCatalog) as [ProblemCode, ...ProblemCode[]]).describe("Stable error code; fixes status and title."),
  })
  .catchall(z.unknown())
  .meta({ id: "Problem", description: "RFC 9457 problem details (application/problem+json)" });

/** Raw bytes of a value, as a request or response body. */
export const bytesSchema = z.string().describe("raw bytes (application/octet-stream)");

const accessProblems: Readonly<Record<Access, readonly ProblemCode[]>> = {
  open: [],
  admin: ["unauthorized", "forbidden", "notConfigured"],
  data: ["unauthorized", "forbidden", "notConfigured"],
};

/** The Hono pattern `path` as an OpenAPI path: `:name` and `:name{regex}` become `{name}`. */
export function openApiPathOf(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}");
}

/** Registers `operation` (method `method` on Hono pattern `path`) in `app`'s OpenAPI registry, when it has one. */
export function registerOperation(app: unknown, method: string, path: string, access: Access, operation: OperationDoc): void {
  if (!(app instanceof OpenAPIHono)) return;
  app.openAPIRegistry.registerPath(routeConfigOf(method, path, access, operation));
}

/** The zod-to-openapi route configuration of one operation. */
export function routeConfigOf(method: string, path: string, access: Access, operation: OperationDoc): RouteConfig {
  const responses: Record<string, ResponseConfig> = {};
  for (const [status, answer] of Object.entries(operation.answers)) {
    responses[status] = {
      description: answer.description,
      ...(answer.schema === undefined ? {} : { content: { [answer.contentType ?? "application/json"]: { schema: answer.schema } } }),
      ...(answer.headers === undefined ? {} : { headers: Object.fromEntries(Object.entries(answer.headers).map(([name, description]) => [name, { description, schema: { type: "string" as const } }])) }),
    };
  }
  for (const [status, codes] of problemsByStatus([...accessProblems[access], ...operation.problems])) {
    const problemContent = { "application/problem+json": { schema: problemSchema } };
    const answer = responses[status];
    responses[status] = answer === undefined
      ? { description: `Problem: ${codes.join(", ")}`, content: problemContent }
      : { ...answer, description: `${answer.description}; or a problem: ${codes.join(", ")}`, content: { ...answer.content, ...problemContent } };
  }
  const request: NonNullable<RouteConfig["request"]> = {
    ...(operation.params === undefined ? {} : { params: operation.params }),
    ...(operation.query === undefined ? {} : { query: operation.query }),
    ...(operation.headers === undefined ? {} : { headers: operation.headers }),
    ...(operation.body === undefined
      ? {}
      : { body: { required: true, ...(operation.body.description === undefined ? {} : { description: operation.body.description }), content: { [operation.body.contentType ?? "application/json"]: { schema: operation.body.schema } } } }),
  };
  return {
    method: method.toLowerCase() as RouteConfig["method"],
    path: openApiPathOf(path),
    summary: operation.summary,
    ...(operation.description === undefined ? {} : { description: operation.description }),
    tags: [operation.tag],
    ...(access === "open" ? { security: [] } : { security: [{ bearer: [] }] }),
    request,
    responses,
  };
}

/** `codes` (deduplicated) grouped by their status, in status order. */
function problemsByStatus(codes: readonly ProblemCode[]): [string, ProblemCode[]][] {
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of new Set(codes)) {
    const status = problemCatalog[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return [...byStatus.entries()].sort(([left], [right]) => left - right).map(([status, list]) => [String(status), list]);
}
