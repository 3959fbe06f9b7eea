/** A tiny HTTP helper for the end-to-end tests: requests with a bearer token against the suite's system (wrangler dev or the Deno cluster). */
import { inject } from "vitest";
import { e2eAdminToken } from "./wrangler.ts";

/** The base URL of the running system. */
export const baseUrl = (): string => inject("baseUrl");

/**
 * The /metrics answer of every scrape target of the running system (the one wrangler dev, whose
 * stats aggregate shows every replica; every Deno node, each showing the replicas it hosts), as a
 * Prometheus scrape config would list them.
 */
export async function scrapeMetrics(): Promise<{ url: string; status: number; text: string }[]> {
  return Promise.all(inject("metricsUrls").map(async (url) => {
    const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${e2eAdminToken}` } });
    return { url, status: response.status, text: await response.text() };
  }));
}

/** Sends a request with `token` (the admin token by default; null for none). */
export function call(path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = init.token === undefined ? e2eAdminToken : init.token;
  if (token !== null) headers.set("authorization", `Bearer ${token}`);
  return fetch(`${baseUrl()}${path}`, { ...init, headers });
}

/** Sends a request and parses its JSON answer. */
export async function callJson<T = Record<string, unknown>>(path: string, init: RequestInit & { token?: string | null } = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await call(path, init);
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}
