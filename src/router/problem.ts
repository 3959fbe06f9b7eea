/**
 * Errors as RFC 9457 problem details. Every error the HTTP layer answers has a stable `code` from
 * `problemCatalog`, which fixes its status and title in one place (docs/api.md mirrors it).
 */
import type { ClusterError } from "./cluster.ts";

/** Status and title of every problem code the API can answer. */
export const problemCatalog = {
  badKey: { status: 400, title: "Bad key" },
  badTenant: { status: 400, title: "Bad tenant name" },
  badConsistency: { status: 400, title: "Bad consistency level" },
  badLimit: { status: 400, title: "Bad limit" },
  badQuery: { status: 400, title: "Bad query string" },
  badPrecondition: { status: 400, title: "Bad precondition header" },
  badJson: { status: 400, title: "Body is not JSON" },
  badRequest: { status: 400, title: "Bad request" },
  unauthorized: { status: 401, title: "Unauthorized" },
  forbidden: { status: 403, title: "Forbidden" },
  notFound: { status: 404, title: "Key not found" },
  groupNotFound: { status: 404, title: "Group not found" },
  replicaNotFound: { status: 404, title: "Replica not found" },
  routeNotFound: { status: 404, title: "Route not found" },
  methodNotAllowed: { status: 405, title: "Method not allowed" },
  groupExists: { status: 409, title: "Group exists" },
  groupProtected: { status: 409, title: "Group is protected" },
  tooFewReplicas: { status: 409, title: "Too few replicas" },
  tooManyReplicas: { status: 409, title: "Too many replicas" },
  txnConflict: { status: 409, title: "Transaction conflict" },
  transferFailed: { status: 409, title: "Leadership transfer failed" },
  conditionFailed: { status: 412, title: "Condition failed" },
  valueTooLarge: { status: 413, title: "Value too large" },
  bodyTooLarge: { status: 413, title: "Body too large" },
  txnTooLarge: { status: 413, title: "Transaction too large" },
  internal: { status: 500, title: "Internal error" },
  notConfigured: { status: 503, title: "Not configured" },
  unavailable: { status: 503, title: "Unavailable" },
  outcomeUnknown: { status: 503, title: "Outcome unknown" },
  transferTimedOut: { status: 503, title: "Leadership transfer timed out" },
} as const satisfies Record<string, { status: number; title: string }>;

/** A stable problem code. */
export type ProblemCode = keyof typeof problemCatalog;

/** Where problem type URIs live; the code is appended. */
export const problemTypeBase = "https://edgeraft.dev/problems/";

/** Extra members of a problem body beyond the RFC 9457 ones (e.g. `currentVersion`). */
export type ProblemExtensions = Readonly<Record<string, string | number | boolean | readonly string[]>>;

/**
 * A problem to answer, thrown from parsing and handlers and rendered by the app's error handler.
 * Throwing (like Hono's HTTPException) keeps handlers linear; anything else thrown is a bug (500).
 */
export class ProblemError extends Error {
  override name = "ProblemError";
  /** The stable code; fixes status and title. */
  readonly code: ProblemCode;
  /** Human-readable explanation of this occurrence. */
  readonly detail: string;
  /** Extra body members. */
  readonly extensions: ProblemExtensions;
  /** Extra response headers (WWW-Authenticate, Allow, Retry-After, ETag). */
  readonly headers: Readonly<Record<string, string>>;

  /** A problem with `code` and `detail`, plus optional body members and headers. */
  constructor(code: ProblemCode, detail: string, more: { extensions?: ProblemExtensions; headers?: Record<string, string> } = {}) {
    super(`${code}: ${detail}`);
    this.code = code;
    this.detail = detail;
    this.extensions = more.extensions ?? {};
    this.headers = more.headers ?? {};
  }
}

/** Shorthand: a ProblemError to throw. */
export function problem(code: ProblemCode, detail: string, more?: { extensions?: ProblemExtensions; headers?: Record<string, string> }): ProblemError {
  return new ProblemError(code, detail, more);
}

/** The `application/problem+json` response for `error`. */
export function problemResponse(error: ProblemError): Response {
  const { status, title } = problemCatalog[error.code];
  const body = { ...error.extensions, type: problemTypeBase + error.code, title, status, detail: error.detail, code: error.code };
  const headers = new Headers(error.headers);
  headers.set("content-type", "application/problem+json");
  return new Response(JSON.stringify(body), { status, headers });
}

/** The problem a ClusterError maps to; `subject` names what was addressed (a key or a group) for the detail. */
export function problemOfClusterError(error: ClusterError, subject: string): ProblemError {
  switch (error.code) {
    case "conditionFailed": {
      const headers: Record<string, string> = error.currentVersion > 0 ? { etag: `"${error.currentVersion}"` } : {};
      const state = error.currentVersion > 0 ? `its current version is ${error.currentVersion}` : "it does not exist";
      return problem("conditionFailed", `the condition on ${subject} does not hold: ${state}`, {
        extensions: { currentVersion: error.currentVersion },
        headers,
      });
    }
    case "notFound":
      return problem("notFound", `${subject} does not exist`);
    case "groupExists":
      return problem("groupExists", error.detail ?? `${subject} already exists`);
    case "groupNotFound":
      return problem("groupNotFound", `${subject} does not exist`);
    case "groupProtected":
      return problem("groupProtected", error.detail);
    case "badRequest":
      return problem("badRequest", error.detail);
    case "replicaNotFound":
      return problem("replicaNotFound", error.detail);
    case "transferFailed":
      return problem("transferFailed", error.detail, { extensions: { leader: error.leader } });
    case "transferTimedOut":
      return problem("transferTimedOut", error.detail, { headers: { "retry-after": "1" } });
    case "tooFewReplicas":
    case "tooManyReplicas":
      return problem(error.code, error.detail);
    case "unavailable":
      return problem("unavailable", error.detail, { headers: { "retry-after": "1" } });
    case "txnConflict":
      return problem("txnConflict", error.detail, { extensions: { keys: error.keys } });
    case "outcomeUnknown":
      return problem(
        "outcomeUnknown",
        `${error.detail}; the write may or may not have happened: read it back, and retry only with a condition (If-Match or If-None-Match) to be safe`,
      );
  }
}
