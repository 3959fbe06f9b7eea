/**
 * The few public-API calls the benchmark makes from Node: create a scenario's groups, run a load
 * cell inside the runtime (the bench-only route), time round trips to a Durable Object, and the
 * HTTP operations of the load generated from outside. Those go over keep-alive node:http
 * connections (bench-deno/load.ts httpCall), not fetch: Node's fetch spent about 440 us of CPU per
 * request and topped out near 2,700 requests/s, so a cell would measure the client.
 */
import { EdgeraftClient, isProblem } from "../../src/client/index.ts";
import type { LoadOperation, LoadOutcome } from "../../src/hosts/cloudflare/bench-load.ts";
import { benchKeyOf, benchValueOf } from "../../src/hosts/cloudflare/bench-load.ts";
import { httpCall } from "../bench-deno/load.ts";
import type { Operation } from "./results.ts";
import type { Scenario } from "./scenarios.ts";

/** Longest a setup call (creating a group) may take, in milliseconds. */
const setupCallMsMax = 60_000;

/** Where a runtime answers, and the admin token it accepts. */
export interface Endpoint {
  url: string;
  token: string;
}

/** One in-runtime load cell, as POST /v1/bench/run takes it. */
export interface RuntimeLoad {
  operation: Operation;
  prefixes: string[];
  keysPerPrefix: number;
  valueBytes: number;
  concurrency: number;
  operationsMax: number;
  durationMsMax: number;
}

async function postJson<T>(endpoint: Endpoint, path: string, body: unknown, timeoutMs: number): Promise<{ status: number; body: T }> {
  const post = () => fetch(`${endpoint.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${endpoint.token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const response = await post().catch((error: unknown) => {
    const code = connectionErrorCode(error);
    if (code !== undefined && staleConnectionCodes.has(code)) return post(); // a pooled connection the server had closed
    throw error;
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as T };
  } catch {
    throw new Error(`${path} answered ${response.status} with a body that is not JSON: ${text.slice(0, 500)}`);
  }
}

/** Creates every group of `scenario` (an existing one is fine) and returns how long it took. */
export async function createScenarioGroups(endpoint: Endpoint, scenario: Pick<Scenario, "groups">): Promise<number> {
  const beganMs = performance.now();
  const client = new EdgeraftClient({ url: endpoint.url, token: endpoint.token, timeoutMs: setupCallMsMax });
  for (const group of scenario.groups) {
    await client.groups.create(group).catch((error: unknown) => {
      if (!isProblem(error, "groupExists")) throw new Error(`creating group ${group.name} failed`, { cause: error });
    });
  }
  return performance.now() - beganMs;
}

/** Runs one load cell inside the runtime. */
export async function runInRuntime(endpoint: Endpoint, load: RuntimeLoad): Promise<LoadOutcome> {
  const answer = await postJson<LoadOutcome & { detail?: string }>(endpoint, "/v1/bench/run", load, load.durationMsMax + setupCallMsMax);
  if (answer.status !== 200) throw new Error(`/v1/bench/run answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** Times `count` sequential Worker-to-replica round trips to `group`'s leader, inside the runtime. */
export async function pingReplica(endpoint: Endpoint, group: string, count: number): Promise<{ latenciesMs: number[]; elapsedMs: number }> {
  const answer = await postJson<{ latenciesMs: number[]; elapsedMs: number; detail?: string }>(endpoint, "/v1/bench/ping", { group, count }, setupCallMsMax);
  if (answer.status !== 200) throw new Error(`/v1/bench/ping answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** Connection errors that mean a pooled keep-alive connection was closed by the server before our request went out. */
const staleConnectionCodes = new Set(["ECONNRESET", "EPIPE"]);

/**
 * The HTTP operation the outside load repeats: PUT, GET, or GET ?consistency=stale of the next
 * key. A request that fails on a stale pooled connection (the server closed it while it was idle
 * between cells) is sent once more on a fresh one; other failures are named by status or error code.
 */
export function httpOperation(endpoint: Endpoint, load: Pick<RuntimeLoad, "operation" | "prefixes" | "keysPerPrefix" | "valueBytes">): LoadOperation {
  const value = benchValueOf(load.valueBytes);
  const headers = { authorization: `Bearer ${endpoint.token}` };
  const query = load.operation === "staleRead" ? "?consistency=stale" : "";
  const method = load.operation === "write" ? "PUT" : "GET";
  const send = async (url: string): Promise<string | undefined> => {
    const { status } = await httpCall(url, { method, headers, ...(method === "PUT" ? { body: value } : {}) });
    return status === 200 || (method === "GET" && status === 404) ? undefined : `http${status}`;
  };
  return async (sequence) => {
    const url = `${endpoint.url}/v1/kv/${benchKeyOf(load.prefixes, load.keysPerPrefix, sequence)}${query}`;
    for (let attempt = 0; ; attempt++) {
      try {
        return await send(url);
      } catch (error) {
        const code = connectionErrorCode(error);
        if (attempt === 0 && code !== undefined && staleConnectionCodes.has(code)) continue;
        return code ?? (error instanceof Error ? error.name : "thrown");
      }
    }
  };
}

function connectionErrorCode(error: unknown): string | undefined {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}
