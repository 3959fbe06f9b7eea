/** A tiny HTTP helper for the end-to-end tests: requests with a bearer token against the suite's wrangler dev. */
import { inject } from "vitest";
import { e2eAdminToken } from "./wrangler.ts";

/** The base URL of the running system. */
export const baseUrl = (): string => inject("baseUrl");

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
