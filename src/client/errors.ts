/**
 * The client's errors. An answer that is an RFC 9457 problem becomes an `EdgeraftProblem` carrying
 * the stable `code` (docs/api.md, "Error codes"); a request that got no answer at all becomes an
 * `EdgeraftNetworkError`. Both extend `EdgeraftError`, so one `instanceof` catches either.
 */

/** Every problem code the v1 API answers, plus `unexpectedResponse` for an answer that is not a problem (a proxy's 502 page). */
export type ProblemCode =
  | "badKey" | "badTenant" | "badConsistency" | "badLimit" | "badQuery" | "badPrecondition" | "badJson" | "badRequest"
  | "unauthorized" | "forbidden" | "notFound" | "groupNotFound" | "routeNotFound" | "methodNotAllowed"
  | "groupExists" | "groupProtected" | "conditionFailed" | "valueTooLarge" | "bodyTooLarge" | "txnConflict" | "txnTooLarge"
  | "internal" | "notConfigured" | "unavailable" | "outcomeUnknown" | "tooManyRequests" | "unexpectedResponse"
  | "replicaNotFound" | "transferFailed" | "transferTimedOut";

/** The RFC 9457 members of a problem body, plus edgeraft's `code` and any extensions. */
export interface ProblemBody {
  readonly type?: string;
  readonly title?: string;
  readonly status?: number;
  readonly detail?: string;
  readonly code?: string;
  readonly [extension: string]: unknown;
}

/** Any failure of an edgeraft call. */
export class EdgeraftError extends Error {
  override name = "EdgeraftError";
  /** How many attempts were made (1 when there was no retry). */
  readonly attempts: number;

  /** An error after `attempts` attempts. */
  constructor(message: string, attempts: number, options?: { cause?: unknown }) {
    super(message, options);
    this.attempts = attempts;
  }
}

/** The server answered with an error status (a problem+json body, or something else). */
export class EdgeraftProblem extends EdgeraftError {
  override name = "EdgeraftProblem";
  /** The HTTP status. */
  readonly status: number;
  /** The stable code; `unexpectedResponse` when the body was not a problem with a code. */
  readonly code: ProblemCode | (string & {});
  /** The human-readable explanation. */
  readonly detail: string;
  /** The whole problem body (extensions included). */
  readonly body: ProblemBody;
  /** For `conditionFailed`: the key's version now, 0 when it is absent. */
  readonly currentVersion: number | undefined;
  /** For `txnConflict`: the keys at fault. */
  readonly keys: readonly string[] | undefined;

  /** The problem answered with `status` and `body`. */
  constructor(status: number, body: ProblemBody, attempts: number) {
    const code = typeof body.code === "string" ? body.code : status === 429 ? "tooManyRequests" : "unexpectedResponse";
    const detail = typeof body.detail === "string" ? body.detail : `HTTP ${status}`;
    super(`${status} ${code}: ${detail}`, attempts);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.body = body;
    this.currentVersion = typeof body.currentVersion === "number" ? body.currentVersion : undefined;
    this.keys = Array.isArray(body.keys) ? body.keys.filter((key): key is string => typeof key === "string") : undefined;
  }
}

/** No answer: the connection failed, was refused or reset, or the attempt timed out. */
export class EdgeraftNetworkError extends EdgeraftError {
  override name = "EdgeraftNetworkError";
  /** True when the connection was refused, so the request certainly never reached the server. */
  readonly refused: boolean;

  /** A failure to get an answer, caused by `cause`. */
  constructor(message: string, attempts: number, refused: boolean, cause: unknown) {
    super(message, attempts, { cause });
    this.refused = refused;
  }
}

/** True when `error` is a problem answer with `code` (narrows the type). */
export function isProblem(error: unknown, code?: ProblemCode): error is EdgeraftProblem {
  return error instanceof EdgeraftProblem && (code === undefined || error.code === code);
}

/** The problem body of an error response, or a body with no code when it is not JSON. */
export async function problemBodyOf(response: Response): Promise<ProblemBody> {
  const text = await response.text().catch(() => "");
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as ProblemBody;
  } catch {
    // not JSON: fall through
  }
  return { status: response.status, detail: text.slice(0, 200) || `HTTP ${response.status}` };
}
