/**
 * Proves the client's retry and error mapping against a real local HTTP server that answers from
 * a script (no fetch mocks): which answers are retried for which calls, that Retry-After and the
 * attempt limit are honoured, that network failures, refusals and timeouts become
 * EdgeraftNetworkError, and that problem+json answers become EdgeraftProblem with their code.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EdgeraftClient, EdgeraftNetworkError, EdgeraftProblem, isRetryable, retryDelayMs } from "../../src/client/index.ts";
import { freePort } from "../e2e/wrangler.ts";

type Answer = (request: IncomingMessage, response: ServerResponse) => void;

const problem = (status: number, code: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}): Answer => (_request, response) => {
  response.writeHead(status, { "content-type": "application/problem+json", ...headers });
  response.end(JSON.stringify({ type: `https://edgeraft.dev/problems/${code}`, title: code, status, detail: `scripted ${code}`, code, ...extra }));
};
const written: Answer = (_request, response) => {
  response.writeHead(200, { "content-type": "application/json", etag: '"5"' });
  response.end(JSON.stringify({ key: "k", version: 5, group: "default" }));
};
const value: Answer = (_request, response) => {
  response.writeHead(200, { "content-type": "application/octet-stream", etag: '"3"', "x-edgeraft-group": "default" });
  response.end("hello");
};
const resetConnection: Answer = (request) => request.socket.destroy();
const neverAnswer: Answer = () => {};

let server: Server;
let url: string;
let script: Answer[] = [];
let received: { method: string; url: string; headers: IncomingMessage["headers"] }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    received.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers });
    request.resume();
    request.on("end", () => (script.shift() ?? problem(500, "internal"))(request, response));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${port}`;
});
afterAll(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
beforeEach(() => {
  script = [];
  received = [];
});

const fastRetries = { attemptsMax: 4, delayMsInitial: 1, delayMsMax: 20 };
const client = (options: { timeoutMs?: number; attemptsMax?: number } = {}) =>
  new EdgeraftClient({ url, token: "secret", retry: { ...fastRetries, ...(options.attemptsMax === undefined ? {} : { attemptsMax: options.attemptsMax }) }, timeoutMs: options.timeoutMs ?? 5_000 });

describe("retries", () => {
  it("retries 503 unavailable until an answer comes, for any call", async () => {
    script = [problem(503, "unavailable", { "retry-after": "0" }), problem(503, "unavailable"), written];
    const result = await client().put("k", "v");
    expect(result.version).toBe(5);
    expect(received.map((r) => r.method)).toEqual(["PUT", "PUT", "PUT"]);
    expect(received[0]!.headers.authorization).toBe("Bearer secret");
  });

  it("retries 503 outcomeUnknown only for conditional writes and reads", async () => {
    script = [problem(503, "outcomeUnknown"), written];
    const unconditional = await client().put("k", "v").catch((error: unknown) => error);
    expect(unconditional).toBeInstanceOf(EdgeraftProblem);
    expect((unconditional as EdgeraftProblem).code).toBe("outcomeUnknown");
    expect((unconditional as EdgeraftProblem).attempts).toBe(1);
    expect(received.length).toBe(1);

    received = [];
    script = [problem(503, "outcomeUnknown"), written];
    expect((await client().compareAndSet("k", 4, "v")).version).toBe(5);
    expect(received.map((r) => r.headers["if-match"])).toEqual(['"4"', '"4"']);

    script = [problem(503, "outcomeUnknown"), value];
    expect((await client().get("k"))?.text).toBe("hello");
  });

  it("retries 429 even for a call that is not idempotent, and never 503 notConfigured", async () => {
    script = [problem(429, "tooManyRequests", { "retry-after": "0" }), (_request, response) => {
      response.writeHead(201, { "content-type": "application/json" });
      response.end(JSON.stringify({ tenant: "acme", token: "t" }));
    }];
    expect((await client().tenants.issueToken("acme")).token).toBe("t");
    expect(received.length).toBe(2);

    received = [];
    script = [problem(503, "notConfigured"), value];
    const error = await client().get("k").catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: "EdgeraftProblem", code: "notConfigured", status: 503, attempts: 1 });
    expect(received.length).toBe(1);
  });

  it("stops after attemptsMax and reports the last answer", async () => {
    script = Array.from({ length: 10 }, () => problem(503, "unavailable"));
    const error = await client({ attemptsMax: 3 }).get("k").catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "unavailable", attempts: 3 });
    expect(received.length).toBe(3);
  });

  it("waits as long as Retry-After says, within delayMsMax", async () => {
    script = [problem(503, "unavailable", { "retry-after": "1" }), value];
    const patient = new EdgeraftClient({ url, retry: { attemptsMax: 2, delayMsInitial: 1, delayMsMax: 5_000 } });
    const began = performance.now();
    expect((await patient.get("k"))?.version).toBe(3);
    expect(performance.now() - began).toBeGreaterThanOrEqual(990);
  });

  it("maps an answer that is not a problem (a proxy's 502 page) to unexpectedResponse, retrying only idempotent calls", async () => {
    const gateway: Answer = (_request, response) => {
      response.writeHead(502, { "content-type": "text/html" });
      response.end("<h1>Bad gateway</h1>");
    };
    script = [gateway, value];
    expect((await client().get("k"))?.version).toBe(3);
    script = [gateway, written];
    const error = await client().put("k", "v").catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "unexpectedResponse", status: 502, attempts: 1 });
  });
});

describe("network failures", () => {
  it("retries a reset connection for a read but not for an unconditional write", async () => {
    script = [resetConnection, value];
    expect((await client().get("k"))?.text).toBe("hello");
    received = [];
    script = [resetConnection, written];
    const error = await client().put("k", "v").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EdgeraftNetworkError);
    expect((error as EdgeraftNetworkError).refused).toBe(false);
    expect(received.length).toBe(1);
  });

  it("retries a refused connection for any call, then reports it", async () => {
    const closedPort = await freePort();
    const refused = new EdgeraftClient({ url: `http://127.0.0.1:${closedPort}`, retry: { attemptsMax: 3, delayMsInitial: 1, delayMsMax: 5 } });
    const error = await refused.put("k", "v").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EdgeraftNetworkError);
    expect(error).toMatchObject({ refused: true, attempts: 3 });
  });

  it("gives up on an attempt after timeoutMs and says it timed out", async () => {
    script = [neverAnswer, neverAnswer];
    const began = performance.now();
    const error = await client({ timeoutMs: 200, attemptsMax: 2 }).get("k").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EdgeraftNetworkError);
    expect((error as Error).message).toContain("timed out");
    expect(performance.now() - began).toBeGreaterThanOrEqual(390);
  });
});

describe("error mapping", () => {
  it("turns a 412 into conditionFailed with the current version, and a missing key into undefined", async () => {
    script = [problem(412, "conditionFailed", { etag: '"9"' }, { currentVersion: 9 })];
    const error = await client().compareAndSet("k", 2, "v").catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: "EdgeraftProblem", code: "conditionFailed", status: 412, currentVersion: 9 });
    script = [problem(404, "notFound")];
    expect(await client().get("absent")).toBeUndefined();
    script = [problem(404, "routeNotFound")];
    await expect(client().get("k")).rejects.toMatchObject({ code: "routeNotFound" });
  });
});

describe("the retry rules as a table", () => {
  it("decides by status, code and idempotency", () => {
    const cases: [Parameters<typeof isRetryable>[0], boolean, boolean][] = [
      [{ status: 503, code: "unavailable" }, false, true],
      [{ status: 429, code: undefined }, false, true],
      [{ status: 503, code: "outcomeUnknown" }, false, false],
      [{ status: 503, code: "outcomeUnknown" }, true, true],
      [{ status: 503, code: "notConfigured" }, true, false],
      [{ status: 500, code: "internal" }, true, false],
      [{ status: 412, code: "conditionFailed" }, true, false],
      [{ status: 504, code: undefined }, true, true],
      [{ network: "refused" }, false, true],
      [{ network: "failed" }, false, false],
      [{ network: "failed" }, true, true],
    ];
    for (const [outcome, idempotent, expected] of cases) expect(isRetryable(outcome, idempotent), JSON.stringify([outcome, idempotent])).toBe(expected);
  });

  it("doubles the delay per retry, jitters it by at most half, and caps it", () => {
    const policy = { attemptsMax: 10, delayMsInitial: 100, delayMsMax: 1_000 };
    expect(retryDelayMs(policy, 1, undefined, 1)).toBe(100);
    expect(retryDelayMs(policy, 1, undefined, 0)).toBe(50);
    expect(retryDelayMs(policy, 3, undefined, 1)).toBe(400);
    expect(retryDelayMs(policy, 9, undefined, 1)).toBe(1_000);
    expect(retryDelayMs(policy, 1, 700, 0)).toBe(700);
    expect(retryDelayMs(policy, 1, 60_000, 0)).toBe(1_000);
  });
});
