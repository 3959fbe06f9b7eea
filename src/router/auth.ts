/**
 * Authentication and authorization. A bearer token is the admin token (compared in constant time)
 * or a tenant token (resolved by the cluster, which stores only hashes). The admin may do
 * everything; a tenant token reaches only `/v1/tenants/<its tenant>/...` data routes. A deployment
 * without ADMIN_TOKEN refuses every authenticated request with 503 notConfigured.
 */
import type { Cluster, Keyspace, Principal } from "./cluster.ts";
import { rawSegmentOf } from "./parse.ts";
import { tenantNameOf, tenantOfSegment } from "./parameters.ts";
import { problem } from "./problem.ts";

/** RFC 6750 section 2.1: `Bearer` (any case), then one b64token. */
const bearerPattern = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const unauthorizedHeaders = { "www-authenticate": 'Bearer realm="edgeraft"' };
const invalidTokenHeaders = { "www-authenticate": 'Bearer realm="edgeraft", error="invalid_token"' };
const utf8Encoder = new TextEncoder();

/** What authentication needs: the configured admin token and the cluster that knows tenant tokens. */
export interface AuthOptions {
  readonly adminToken: string | undefined;
  readonly cluster: Cluster;
}

/**
 * True when `left` and `right` have the same UTF-8 bytes. The time taken depends only on the
 * lengths, not on where the first difference is, so a caller cannot guess a token byte by byte.
 */
export function constantTimeEqual(left: string, right: string): boolean {
  const leftBytes = utf8Encoder.encode(left);
  const rightBytes = utf8Encoder.encode(right);
  const length = Math.max(leftBytes.length, rightBytes.length);
  let difference = leftBytes.length ^ rightBytes.length;
  for (let position = 0; position < length; position++) {
    difference |= (leftBytes[position] ?? 0) ^ (rightBytes[position] ?? 0);
  }
  return difference === 0;
}

/** The bearer token of an Authorization header value, or undefined when it is absent or garbled. */
export function bearerTokenOf(authorization: string | null): string | undefined {
  if (authorization === null) return undefined;
  return bearerPattern.exec(authorization)?.[1];
}

/** Who sent `request`, or a thrown 503 notConfigured / 401 unauthorized problem. */
export async function authenticate(request: Request, options: AuthOptions): Promise<Principal> {
  const adminToken = options.adminToken;
  if (adminToken === undefined || adminToken === "") {
    throw problem("notConfigured", "ADMIN_TOKEN is not set; this deployment refuses requests until it is");
  }
  const authorization = request.headers.get("authorization");
  const token = bearerTokenOf(authorization);
  if (token === undefined) {
    const detail = authorization === null ? "send Authorization: Bearer <token>" : "the Authorization header is not Bearer <token>";
    throw problem("unauthorized", detail, { headers: unauthorizedHeaders });
  }
  if (constantTimeEqual(token, adminToken)) return { role: "admin" };
  const tenant = await options.cluster.tenantOfToken(token);
  if (tenant === undefined) throw problem("unauthorized", "the token is not valid", { headers: invalidTokenHeaders });
  return { role: "tenant", tenant };
}

/** Allows admins only; a thrown 403 for anyone else. */
export function requireAdmin(principal: Principal): void {
  if (principal.role !== "admin") throw problem("forbidden", "this route needs the admin token");
}

/**
 * The keyspace a data route addresses, checked against `principal`: paths under /v1/tenants/<tenant>
 * address that tenant's keyspace, all others the shared one. A tenant token may use only its own
 * tenant's keyspace (403 otherwise); for the admin a malformed tenant name is a 400 badTenant.
 */
export function authorizeKeyspace(principal: Principal, path: string): Keyspace {
  if (rawSegmentOf(path, 2) !== "tenants") {
    if (principal.role !== "admin") throw problem("forbidden", "a tenant token may use only /v1/tenants/<its tenant>/...");
    return { kind: "shared" };
  }
  const rawTenant = rawSegmentOf(path, 3);
  if (principal.role === "tenant") {
    const tenant = tenantNameOf(rawTenant);
    if (tenant !== principal.tenant) throw problem("forbidden", "this token belongs to another tenant");
    return { kind: "tenant", tenant };
  }
  return { kind: "tenant", tenant: tenantOfSegment(rawTenant) };
}
