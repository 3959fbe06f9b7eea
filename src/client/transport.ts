/**
 * HTTP for the client: the bearer token, a timeout per attempt, and retries with exponential
 * backoff and jitter on answers that are safe to retry (docs/api.md, "Error codes"):
 * - 429 and 503 `unavailable`: the server refused and applied nothing, so every call is retried;
 * - 503 `outcomeUnknown`, other 502/503/504 answers and network errors (reset, timeout): the
 *   request may have taken effect, so only idempotent calls are retried (reads, deletes,
 *   conditional writes); a refused connection never reached the server and is retried always;
 * - anything else (4xx, 500, 503 `notConfigured`) is final.
 * Uses only fetch, AbortSignal and setTimeout, so it runs in Node, Deno, browsers and Workers.
 */
import { EdgeraftNetworkError, EdgeraftProblem, problemBodyOf } from "./errors.ts";

/** How often and how patiently to retry. */
export interface RetryPolicy {
  /** Attempts in all, the first included; 1 disables retries. */
  readonly attemptsMax: number;
  /** Delay before the first retry, in milliseconds; it doubles per retry. */
  readonly delayMsInitial: number;
  /** Upper bound of any delay, Retry-After included, in milliseconds. */
  readonly delayMsMax: number;
}

/** The default: four attempts, 50 ms doubling up to 2 s. */
export const retryPolicyDefault: RetryPolicy = { attemptsMax: 4, delayMsInitial: 50, delayMsMax: 2_000 };

/** Where and how to connect. */
export interface TransportOptions {
  /** The server's base URL, e.g. http://127.0.0.1:8787. */
  readonly url: string;
  /** The bearer token (admin or tenant); none sends no Authorization header. */
  readonly token?: string;
  /** The fetch to use (a Worker's service binding, a test's); the global fetch by default. */
  readonly fetch?: (request: Request) => Promise<Response>;
  readonly retry?: Partial<RetryPolicy>;
  /** Longest one attempt may take, in milliseconds (default 30 s). */
  readonly timeoutMs?: number;
}

/** One call to make. */
export interface CallRequest {
  readonly method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE";
  /** Path and query, starting with a slash. */
  readonly path: string;
  readonly body?: string | Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  /** True when doing it twice has the effect of doing it once; decides retries after an unknown outcome. */
  readonly idempotent: boolean;
  /** Error statuses that are answers here, not failures (404 for a get, 503 for health). */
  readonly acceptStatuses?: readonly number[];
  readonly signal?: AbortSignal;
}

/** What happened to one attempt, for the retry decision. */
export type AttemptOutcome = { readonly status: number; readonly code: string | undefined } | { readonly network: "refused" | "failed" };

/** True when an attempt that ended in `outcome` may be tried again (see the file comment). */
export function isRetryable(outcome: AttemptOutcome, idempotent: boolean): boolean {
  if ("network" in outcome) return outcome.network === "refused" || idempotent;
  if (outcome.status === 429) return true;
  if (outcome.status === 503 && outcome.code === "unavailable") return true;
  if (outcome.status === 503 && outcome.code === "notConfigured") return false;
  return idempotent && (outcome.status === 502 || outcome.status === 503 || outcome.status === 504);
}

/** The delay before retry number `retry` (1 for the first), jittered, honouring Retry-After. */
export function retryDelayMs(policy: RetryPolicy, retry: number, retryAfterMs: number | undefined, random: number): number {
  const backoff = Math.min(policy.delayMsMax, policy.delayMsInitial * 2 ** (retry - 1));
  const jittered = backoff / 2 + (backoff / 2) * random;
  return Math.min(policy.delayMsMax, Math.max(jittered, retryAfterMs ?? 0));
}

/** Sends calls to one server with one token. */
export class Transport {
  /** The base URL without a trailing slash. */
  readonly url: string;
  /** The bearer token, if any. */
  readonly token: string | undefined;
  private readonly send: (request: Request) => Promise<Response>;
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;

  /** A transport for `options.url`. */
  constructor(options: TransportOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.token = options.token;
    this.send = options.fetch ?? ((request) => fetch(request));
    this.policy = { ...retryPolicyDefault, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 30_000;
    if (!(this.policy.attemptsMax >= 1)) throw new RangeError("retry.attemptsMax must be at least 1");
  }

  /** The same server and settings with another token. */
  withToken(token: string | undefined): Transport {
    return new Transport({ url: this.url, ...(token === undefined ? {} : { token }), fetch: this.send, retry: this.policy, timeoutMs: this.timeoutMs });
  }

  /** Sends `call`, retrying as the file comment says; the response when its status is 2xx or accepted, else a thrown EdgeraftError. */
  async call(call: CallRequest): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.policy.attemptsMax;
      let response: Response;
      try {
        response = await this.send(this.requestOf(call));
      } catch (error) {
        if (call.signal?.aborted === true) throw error;
        const refused = connectionRefused(error);
        if (last || !isRetryable({ network: refused ? "refused" : "failed" }, call.idempotent)) {
          throw new EdgeraftNetworkError(`${call.method} ${call.path}: ${describeNetworkError(error)}`, attempt, refused, error);
        }
        await sleep(retryDelayMs(this.policy, attempt, undefined, Math.random()));
        continue;
      }
      if (response.ok || call.acceptStatuses?.includes(response.status) === true) return response;
      const body = await problemBodyOf(response);
      const code = typeof body.code === "string" ? body.code : undefined;
      if (last || !isRetryable({ status: response.status, code }, call.idempotent)) throw new EdgeraftProblem(response.status, body, attempt);
      await sleep(retryDelayMs(this.policy, attempt, retryAfterMsOf(response), Math.random()));
    }
  }

  private requestOf(call: CallRequest): Request {
    const headers = new Headers(call.headers);
    if (this.token !== undefined) headers.set("authorization", `Bearer ${this.token}`);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = call.signal === undefined ? timeout : AbortSignal.any([call.signal, timeout]);
    return new Request(this.url + call.path, { method: call.method, headers, signal, ...(call.body === undefined ? {} : { body: call.body }) });
  }
}

/** Retry-After in milliseconds (seconds form only; the server sends `1`). */
function retryAfterMsOf(response: Response): number | undefined {
  const seconds = Number(response.headers.get("retry-after") ?? "");
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** True when Node's fetch says the connection was refused (other runtimes do not say; then false). */
function connectionRefused(error: unknown): boolean {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return cause?.code === "ECONNREFUSED";
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return "timed out";
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === "string") return `network error ${cause.code}`;
  return `network error (${error instanceof Error ? error.message : String(error)})`;
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
