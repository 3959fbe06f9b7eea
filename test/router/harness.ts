/** Builds a router app over a MemoryCluster and sends it requests, with the tokens the tests use. */
import { createApp } from "../../src/router/app.ts";
import { MemoryCluster, MemoryFaults } from "./memory-cluster.ts";

/** The admin token of the test app. */
export const adminToken = "admin-test-token";
/** A tenant token of tenant `acme`. */
export const acmeToken = "acme-test-token";
/** A tenant token of tenant `globex`. */
export const globexToken = "globex-test-token";

/** How a test app is built. */
export interface SetupOptions {
  /** The admin token; pass undefined or "" for a deployment without ADMIN_TOKEN. */
  readonly adminToken?: string | undefined;
  /** Whether fault routes exist. */
  readonly faults?: boolean;
  readonly maxValueBytes?: number;
}

/** One request: `token` defaults to the admin token; null sends no Authorization header. */
export interface SendOptions {
  readonly token?: string | null;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array | ReadableStream<Uint8Array>;
}

/** A test app with its cluster, faults and a `send` helper. */
export function setup(options: SetupOptions = {}) {
  const cluster = new MemoryCluster();
  cluster.addToken(acmeToken, "acme");
  cluster.addToken(globexToken, "globex");
  const faults = options.faults === true ? new MemoryFaults() : undefined;
  const app = createApp({
    cluster,
    adminToken: "adminToken" in options ? options.adminToken : adminToken,
    faults,
    maxValueBytes: options.maxValueBytes,
  });
  async function send(method: string, path: string, sendOptions: SendOptions = {}): Promise<Response> {
    const headers = new Headers(sendOptions.headers);
    const token = sendOptions.token === undefined ? adminToken : sendOptions.token;
    if (token !== null && !headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
    const body = sendOptions.body;
    const init: RequestInit & { duplex?: "half" } = { method, headers };
    if (body !== undefined) init.body = body;
    if (body instanceof ReadableStream) init.duplex = "half";
    return app.fetch(new Request(`http://127.0.0.1:8787${path}`, init));
  }
  return { app, cluster, faults, send };
}

/** The JSON body of `response`. */
export async function jsonOf(response: Response): Promise<Record<string, any>> {
  return (await response.json()) as Record<string, any>;
}

/** Bytes of `text` as UTF-8. */
export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
