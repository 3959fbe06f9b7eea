/**
 * Proves that every kind of bad input is a 4xx problem with its documented code, never a 5xx, and
 * that the rejected request never reaches the cluster's data: malformed keys, tenant names, query
 * strings, preconditions and JSON, oversized bodies (also with a lying Content-Length), unknown
 * routes and wrong methods. Each case is one request to an app over the in-memory cluster.
 */
import { describe, expect, it } from "vitest";
import { valueBytesMax } from "../../src/shared/limits.ts";
import { jsonOf, setup } from "./harness.ts";
import type { SendOptions } from "./harness.ts";

type Case = { method: string; path: string; options?: SendOptions; status: number; code: string };

function dataCalls(calls: readonly string[]): string[] {
  return calls.filter((call) => call !== "tenantOfToken");
}

async function expectProblems(cases: readonly Case[], setupOptions: Parameters<typeof setup>[0] = {}): Promise<void> {
  const { send, cluster } = setup(setupOptions);
  for (const { method, path, options, status, code } of cases) {
    const response = await send(method, path, options);
    const where = `${method} ${path.slice(0, 80)}`;
    expect(response.status, where).toBe(status);
    expect(response.headers.get("content-type"), where).toBe("application/problem+json");
    const body = await jsonOf(response);
    expect(body, where).toMatchObject({ type: `https://edgeraft.dev/problems/${code}`, status, code });
    expect(typeof body.title, where).toBe("string");
    expect(typeof body.detail, where).toBe("string");
  }
  expect(dataCalls(cluster.calls)).toEqual([]);
}

const json = (body: string): SendOptions => ({ body, headers: { "content-type": "application/json" } });

describe("malformed keys", () => {
  it("answers 400 badKey for bad percent-encoding, invalid UTF-8, lone surrogates, empty and long keys", async () => {
    const paths = ["/v1/kv/%", "/v1/kv/%zz", "/v1/kv/a%2", "/v1/kv/%E9", "/v1/kv/%ED%A0%80", "/v1/kv/%C0%AF", "/v1/kv/", "/v1/tenants/acme/kv/"];
    paths.push(`/v1/kv/${"k".repeat(1025)}`, `/v1/kv/${encodeURIComponent("é".repeat(513))}`, `/v1/tenants/acme/kv/${"k".repeat(1025)}`);
    const cases = paths.flatMap((path) => ["GET", "PUT", "DELETE"].map((method) => ({ method, path, status: 400, code: "badKey" })));
    await expectProblems(cases);
  });
});

describe("malformed tenant names", () => {
  it("answers 400 badTenant to the admin", async () => {
    const tenants = ["Acme", "a_b", "-acme", "%zz", "ac%2Fme", "a".repeat(64), "%F0%9F%98%80"];
    const cases = tenants.flatMap((tenant) => [
      { method: "GET", path: `/v1/tenants/${tenant}/kv/k`, status: 400, code: "badTenant" },
      { method: "GET", path: `/v1/tenants/${tenant}/kv`, status: 400, code: "badTenant" },
      { method: "POST", path: `/v1/tenants/${tenant}/batch`, options: json('{"operations":[{"op":"get","key":"k"}]}'), status: 400, code: "badTenant" },
    ]);
    await expectProblems(cases);
  });
});

describe("query strings", () => {
  it("answers 400 badConsistency, badLimit or badQuery", async () => {
    const cases: Case[] = [];
    for (const consistency of ["strong", "", "LEASE", "linearizable%00"]) {
      cases.push({ method: "GET", path: `/v1/kv/k?consistency=${consistency}`, status: 400, code: "badConsistency" });
      cases.push({ method: "GET", path: `/v1/kv?consistency=${consistency}`, status: 400, code: "badConsistency" });
    }
    for (const limit of ["0", "1001", "-1", "abc", "1.5", "", "99999999", "1e2", " 5"]) {
      cases.push({ method: "GET", path: `/v1/kv?limit=${encodeURIComponent(limit)}`, status: 400, code: "badLimit" });
    }
    for (const query of ["prefix=%zz", "start=%E9", `end=${"e".repeat(1025)}`, "limit=1&limit=2", "consistency=stale&consistency=lease", `cursor=${"c".repeat(8193)}`]) {
      cases.push({ method: "GET", path: `/v1/kv?${query}`, status: 400, code: "badQuery" });
    }
    cases.push({ method: "GET", path: "/v1/kv/k?%zz=1", status: 400, code: "badQuery" });
    await expectProblems(cases);
  });

  it("passes an unknown cursor to the cluster, which refuses it with 400 badRequest", async () => {
    const { send } = setup();
    const response = await send("GET", "/v1/kv?cursor=made-up");
    expect(response.status).toBe(400);
    expect((await jsonOf(response)).code).toBe("badRequest");
  });
});

describe("precondition headers", () => {
  it("answers 400 badPrecondition for anything but one strong version or If-None-Match: *", async () => {
    const cases: Case[] = [];
    for (const ifMatch of ['W/"1"', "*", '"abc"', "1", '"1", "2"', '"-1"', '"01"', '""', '"1.5"', '"99999999999999999"']) {
      cases.push({ method: "PUT", path: "/v1/kv/k", options: { body: "v", headers: { "if-match": ifMatch } }, status: 400, code: "badPrecondition" });
      cases.push({ method: "DELETE", path: "/v1/kv/k", options: { headers: { "if-match": ifMatch } }, status: 400, code: "badPrecondition" });
    }
    for (const ifNoneMatch of ['"1"', "**", 'W/"1"']) {
      cases.push({ method: "PUT", path: "/v1/kv/k", options: { body: "v", headers: { "if-none-match": ifNoneMatch } }, status: 400, code: "badPrecondition" });
    }
    cases.push({ method: "PUT", path: "/v1/kv/k", options: { body: "v", headers: { "if-match": '"1"', "if-none-match": "*" } }, status: 400, code: "badPrecondition" });
    cases.push({ method: "DELETE", path: "/v1/kv/k", options: { headers: { "if-none-match": "*" } }, status: 400, code: "badPrecondition" });
    await expectProblems(cases);
  });
});

describe("JSON bodies", () => {
  it("answers 400 badJson for bodies that are not JSON and 400 badRequest for JSON that fails the schema", async () => {
    const cases: Case[] = [];
    for (const body of ["", "{", "[1,2", "operations", "{'a':1}", "\u0000"]) {
      cases.push({ method: "POST", path: "/v1/batch", options: json(body), status: 400, code: "badJson" });
      cases.push({ method: "POST", path: "/v1/groups", options: json(body), status: 400, code: "badJson" });
    }
    cases.push({ method: "POST", path: "/v1/batch", options: { body: new Uint8Array([0x7b, 0xff, 0x7d]) }, status: 400, code: "badJson" });
    for (const body of ["null", "[]", "42", '"text"', "{}", '{"operations":{}}', '{"operations":[{"op":"get"}]}', '{"operations":[{"op":"get","key":7}]}']) {
      cases.push({ method: "POST", path: "/v1/batch", options: json(body), status: 400, code: "badRequest" });
    }
    await expectProblems(cases);
  });
});

describe("body size", () => {
  it("answers 413 valueTooLarge by Content-Length, by the bytes received, and despite a lying Content-Length", async () => {
    const small = 64;
    const over = "x".repeat(small + 1);
    const stream = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let chunk = 0; chunk < 10; chunk++) controller.enqueue(new Uint8Array(10));
          controller.close();
        },
      });
    const endless = () => new ReadableStream<Uint8Array>({ pull: (controller) => controller.enqueue(new Uint8Array(10)) });
    const cases: Case[] = [
      { method: "PUT", path: "/v1/kv/k", options: { body: over }, status: 413, code: "valueTooLarge" },
      { method: "PUT", path: "/v1/kv/k", options: { body: "tiny", headers: { "content-length": String(10 * 1024 * 1024) } }, status: 413, code: "valueTooLarge" },
      { method: "PUT", path: "/v1/kv/k", options: { body: over, headers: { "content-length": "3" } }, status: 413, code: "valueTooLarge" },
      { method: "PUT", path: "/v1/kv/k", options: { body: stream() }, status: 413, code: "valueTooLarge" },
      // Chunked with a small Content-Length besides (a server may keep both): read chunk by chunk and
      // stopped at the limit, not buffered whole on the word of the Content-Length (the stream never ends).
      { method: "PUT", path: "/v1/kv/k", options: { body: endless(), headers: { "content-length": "10", "transfer-encoding": "chunked" } }, status: 413, code: "valueTooLarge" },
      { method: "PUT", path: "/v1/tenants/acme/kv/k", options: { body: over }, status: 413, code: "valueTooLarge" },
    ];
    await expectProblems(cases, { maxValueBytes: small });
  });

  it("accepts a value of exactly valueBytesMax and refuses one byte more", async () => {
    const { send } = setup();
    expect((await send("PUT", "/v1/kv/big", { body: new Uint8Array(valueBytesMax) })).status).toBe(200);
    const response = await send("PUT", "/v1/kv/big", { body: new Uint8Array(valueBytesMax + 1) });
    expect(response.status).toBe(413);
    expect(await jsonOf(response)).toMatchObject({ code: "valueTooLarge", bytesMax: valueBytesMax });
  });

  it("answers 413 bodyTooLarge for oversized JSON bodies", async () => {
    const hugeBatch = JSON.stringify({ operations: [{ op: "put", key: "k", value: "x".repeat(9 * 1024 * 1024) }] });
    const hugeGroup = JSON.stringify({ name: "users", prefix: "u", padding: "x".repeat(70 * 1024) });
    await expectProblems(
      [
        { method: "POST", path: "/v1/batch", options: json(hugeBatch), status: 413, code: "bodyTooLarge" },
        { method: "POST", path: "/v1/groups", options: json(hugeGroup), status: 413, code: "bodyTooLarge" },
      ],
      {},
    );
  });
});

describe("routes", () => {
  it("answers 404 routeNotFound for unknown paths, internal replica routes and later-milestone pages", async () => {
    const paths = ["/v2/kv/k", "/raft/append", "/internal/step", "/v1", "/v1/kvx", "/v1/groups/a/b", "/v1/tenants//kv/k"];
    paths.push("/v1/tenants/acme/tokens/x", "/v1/txn/x", "/openapi.json/x", "/docs/x", "/v1/faults", "/v1/health/ready");
    const cases = paths.flatMap((path) => ["GET", "POST"].map((method) => ({ method, path, status: 404, code: "routeNotFound" })));
    await expectProblems(cases);
  });

  it("answers 405 methodNotAllowed with an Allow header for a wrong method on a known path", async () => {
    const { send, cluster } = setup();
    const cases: [string, string, string][] = [
      ["POST", "/v1/kv/k", "GET, HEAD, PUT, DELETE"],
      ["PATCH", "/v1/tenants/acme/kv/k", "GET, HEAD, PUT, DELETE"],
      ["PUT", "/v1/kv", "GET, HEAD"],
      ["DELETE", "/v1/tenants/acme/kv", "GET, HEAD"],
      ["GET", "/v1/batch", "POST"],
      ["GET", "/v1/txn", "POST"],
      ["PUT", "/v1/tenants/acme/txn", "POST"],
      ["PUT", "/v1/tenants/acme/batch", "POST"],
      ["DELETE", "/v1/groups", "GET, HEAD, POST"],
      ["GET", "/v1/tenants/acme", "PUT"],
      ["PUT", "/v1/groups/default", "GET, HEAD, DELETE"],
      ["GET", "/v1/tenants/acme/tokens", "POST"],
      ["POST", "/v1/health", "GET, HEAD"],
      ["POST", "/openapi.json", "GET, HEAD"],
      ["DELETE", "/docs", "GET, HEAD"],
      ["POST", "/v1/health/live", "GET, HEAD"],
      ["OPTIONS", "/v1/kv/k", "GET, HEAD, PUT, DELETE"],
      ["DELETE", "/", "GET, HEAD"],
    ];
    for (const [method, path, allow] of cases) {
      const response = await send(method, path);
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get("allow"), `${method} ${path}`).toBe(allow);
      expect((await jsonOf(response)).code).toBe("methodNotAllowed");
    }
    expect(cluster.calls).toEqual([]);
  });
});
