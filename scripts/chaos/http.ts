/**
 * HTTP for the chaos campaign: every request carries the admin token and a timeout, and ends as
 * one of three things: a response (status, body, ETag), "refused" (the connection was refused, so
 * the request certainly never reached the server), or a failure whose effect is unknown (a reset
 * connection, a timeout). The workload maps these onto history outcomes.
 */
import { e2eAdminToken } from "../../test/e2e/wrangler.ts";

/** How a request ended. */
export type HttpOutcome =
  | { kind: "response"; status: number; body: string; etag: string | null; code: string | undefined }
  | { kind: "refused" }
  | { kind: "failed"; reason: string };

/** What to send. */
export interface HttpRequest {
  method?: "GET" | "PUT" | "POST" | "DELETE";
  body?: string;
  headers?: Record<string, string>;
  timeoutMs: number;
}

/** Sends `path` to `baseUrl` with the admin token; never throws. */
export async function send(baseUrl: string, path: string, request: HttpRequest): Promise<HttpOutcome> {
  const headers: Record<string, string> = { authorization: `Bearer ${e2eAdminToken}`, ...request.headers };
  if (request.body !== undefined && request.method === "POST") headers["content-type"] = "application/json";
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method: request.method ?? "GET",
      headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    const body = await response.text();
    return { kind: "response", status: response.status, body, etag: response.headers.get("etag"), code: problemCodeOf(response, body) };
  } catch (error) {
    if (causeCodeOf(error) === "ECONNREFUSED") return { kind: "refused" };
    return { kind: "failed", reason: describeFailure(error) };
  }
}

/** A short label for an outcome, for the tally of what the server answered. */
export function labelOf(outcome: HttpOutcome): string {
  if (outcome.kind === "refused") return "connection refused";
  if (outcome.kind === "failed") return outcome.reason;
  return outcome.code === undefined ? String(outcome.status) : `${outcome.status} ${outcome.code}`;
}

/** Sends a JSON body and parses the JSON answer; undefined unless the status is 2xx. */
export async function sendJson<T>(baseUrl: string, path: string, request: HttpRequest): Promise<T | undefined> {
  const outcome = await send(baseUrl, path, request);
  if (outcome.kind !== "response" || outcome.status < 200 || outcome.status > 299) return undefined;
  try {
    return JSON.parse(outcome.body) as T;
  } catch {
    return undefined;
  }
}

function problemCodeOf(response: Response, body: string): string | undefined {
  if (!(response.headers.get("content-type") ?? "").includes("application/problem+json")) return undefined;
  try {
    const parsed = JSON.parse(body) as { code?: unknown };
    return typeof parsed.code === "string" ? parsed.code : undefined;
  } catch {
    return undefined;
  }
}

function causeCodeOf(error: unknown): string | undefined {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === "string" ? cause.code : undefined;
}

function describeFailure(error: unknown): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return "timeout";
  const code = causeCodeOf(error);
  return code === undefined ? `network error (${error instanceof Error ? error.message : String(error)})` : `network error ${code}`;
}
