/**
 * How routes are declared: a path, a handler per method, and a guard per handler that decides who
 * may call it. Handlers see only the Web-standard Request (and, for data routes, the keyspace the
 * guard authorized, and their path and query parameters parsed by the zod schemas their description
 * names: route-input.ts), so they stay independent of Hono. Every other method on a declared path is a
 * 405 with an `Allow` header; route matching (404, 405) happens before authentication.
 */
import type { Hono } from "hono";
import { authenticate, authorizeKeyspace, requireAdmin } from "./auth.ts";
import type { AuthOptions } from "./auth.ts";
import type { Keyspace } from "./cluster.ts";
import { registerOperation, type Access, type OperationDoc } from "./openapi/operation.ts";
import { rawPathOf } from "./parse.ts";
import { noteMatchedRoute, parseRouteInput } from "./route-input.ts";
import { locationOfOrigin } from "../multiraft/leader-placement.ts";
import { problem } from "./problem.ts";

/** The methods the API serves (HEAD is served wherever GET is). */
export type Method = "GET" | "PUT" | "POST" | "DELETE";

/** A request handler after its guard has passed. */
export type RouteHandler = (request: Request) => Promise<Response>;

/** A data-route handler: gets the keyspace the caller is allowed to address. */
export type DataHandler = (request: Request, keyspace: Keyspace) => Promise<Response>;

/** Wrappers that put authentication and authorization in front of a handler. */
export interface Guards {
  /** No authentication (liveness, the root pointer). */
  open(handler: RouteHandler): RouteHandler;
  /** The admin token only. */
  admin(handler: RouteHandler): RouteHandler;
  /** The admin, or a tenant token on its own tenant's paths. */
  data(handler: DataHandler): RouteHandler;
}

/** Which guard wrapped each guarded handler, so the API description states who may call it. */
const accessOfHandler = new WeakMap<RouteHandler, Access>();

function guarded(access: Access, handler: RouteHandler): RouteHandler {
  accessOfHandler.set(handler, access);
  return handler;
}

/** Guards that authenticate against `options`. */
export function createGuards(options: AuthOptions): Guards {
  return {
    open: (handler) => guarded("open", async (request) => {
      parseRouteInput(request);
      return handler(request);
    }),
    admin: (handler) => guarded("admin", async (request) => {
      requireAdmin(await authenticate(request, options));
      parseRouteInput(request);
      return handler(request);
    }),
    data: (handler) => guarded("data", async (request) => {
      const principal = await authenticate(request, options);
      const keyspace = withOrigin(authorizeKeyspace(principal, rawPathOf(request)), request);
      parseRouteInput(request);
      return handler(request, keyspace);
    }),
  };
}

/**
 * The keyspace with the request's origin: the locationHint nearest to the `request.cf` location
 * data the Workers runtime attaches (locally, wrangler dev sets the same fields from its
 * `MF-CF-Blob` test header). Other runtimes attach no `cf`, and the request has no origin.
 */
function withOrigin(keyspace: Keyspace, request: Request): Keyspace {
  const cf = (request as Request & { cf?: unknown }).cf;
  if (typeof cf !== "object" || cf === null) return keyspace;
  const origin = locationOfOrigin(cf as Record<string, unknown>);
  return origin === undefined ? keyspace : { ...keyspace, origin };
}

/**
 * Registers `handlers` on the Hono `path` pattern, and a 405 problem for every other method there;
 * `docs` describes each method for GET /openapi.json (its access comes from the handler's guard).
 */
export function addRoute(app: Hono, path: string, handlers: Partial<Record<Method, RouteHandler>>, docs: Partial<Record<Method, OperationDoc>> = {}): void {
  const methods = Object.keys(handlers) as Method[];
  for (const method of methods) {
    const handler = handlers[method];
    if (handler === undefined) continue;
    const doc = docs[method];
    app.on(method, path, (context) => {
      // The guard parses the documented path and query parameters once the caller is authorized.
      if (doc !== undefined) noteMatchedRoute(context.req.raw, path, doc);
      return handler(context.req.raw);
    });
    if (doc !== undefined) registerOperation(app, method, path, accessOfHandler.get(handler) ?? "open", doc);
  }
  const allow = methods.flatMap((method) => (method === "GET" ? ["GET", "HEAD"] : [method])).join(", ");
  app.all(path, (context) => {
    throw problem("methodNotAllowed", `${context.req.method} is not allowed here; use ${allow}`, { headers: { allow } });
  });
}

/** A JSON response with `status` and extra `headers`. */
export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  const all = new Headers(headers);
  all.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: all });
}
