/**
 * Proves how failures from the cluster reach the client: each ClusterError code maps to its
 * documented status and problem code (unavailable with Retry-After, outcomeUnknown saying a retry
 * needs a condition), an exception inside the cluster is a logged 500 `internal`, and docs/api.md
 * documents every problem code the app can answer. The in-memory cluster is told to fail its next call.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import type { ClusterError } from "../../src/router/cluster.ts";
import { problemCatalog } from "../../src/router/problem.ts";
import { acmeToken, jsonOf, setup } from "./harness.ts";

const mappings: [ClusterError, number, string][] = [
  [{ code: "conditionFailed", currentVersion: 7 }, 412, "conditionFailed"],
  [{ code: "notFound" }, 404, "notFound"],
  [{ code: "groupExists" }, 409, "groupExists"],
  [{ code: "groupNotFound" }, 404, "groupNotFound"],
  [{ code: "badRequest", detail: "cursor is from another scan" }, 400, "badRequest"],
  [{ code: "unavailable", detail: "no leader for group default" }, 503, "unavailable"],
  [{ code: "outcomeUnknown", detail: "the leader was reset mid-write" }, 503, "outcomeUnknown"],
  [{ code: "replicaNotFound", detail: "group g has no replica 9" }, 404, "replicaNotFound"],
  [{ code: "transferFailed", detail: "replica 3 took over", leader: 3 }, 409, "transferFailed"],
  [{ code: "transferTimedOut", detail: "replica 2 did not take over" }, 503, "transferTimedOut"],
];

describe("cluster errors", () => {
  for (const [error, status, code] of mappings) {
    it(`maps ${error.code} to ${status} ${code}`, async () => {
      const { send, cluster } = setup();
      cluster.failNext = error;
      const response = await send("PUT", "/v1/kv/k", { body: "v" });
      expect(response.status).toBe(status);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(await jsonOf(response)).toMatchObject({ status, code, type: `https://edgeraft.dev/problems/${code}` });
    });
  }

  it("adds Retry-After to unavailable and tells the client how to retry an unknown outcome", async () => {
    const { send, cluster } = setup();
    cluster.failNext = { code: "unavailable", detail: "no leader" };
    expect((await send("GET", "/v1/kv/k")).headers.get("retry-after")).toBe("1");
    cluster.failNext = { code: "outcomeUnknown", detail: "the leader was reset" };
    const unknown = await send("PUT", "/v1/kv/k", { body: "v" });
    expect(unknown.headers.get("retry-after")).toBeNull();
    expect((await jsonOf(unknown)).detail).toMatch(/may or may not have happened.*retry only with a condition/);
  });

  it("shows a failure of the whole batch as a problem", async () => {
    const { send, cluster } = setup();
    cluster.failNext = { code: "unavailable", detail: "no leader" };
    const body = JSON.stringify({ operations: [{ op: "get", key: "k" }] });
    expect((await send("POST", "/v1/tenants/acme/batch", { body, token: acmeToken })).status).toBe(503);
  });

  it("answers 500 internal and logs when the cluster throws", async () => {
    const { send, cluster } = setup();
    const log = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      for (const [method, path] of [["GET", "/v1/kv/k"], ["GET", "/v1/groups"], ["GET", "/v1/health"]] as const) {
        cluster.throwNext = true;
        const response = await send(method, path);
        expect(response.status).toBe(500);
        expect(await jsonOf(response)).toMatchObject({ code: "internal", status: 500 });
      }
      expect(log).toHaveBeenCalledTimes(3);
    } finally {
      log.mockRestore();
    }
  });
});

describe("docs/api.md", () => {
  it("documents every problem code with its status", () => {
    const docs = readFileSync(new URL("../../docs/api.md", import.meta.url), "utf8");
    for (const [code, { status }] of Object.entries(problemCatalog)) {
      expect(docs, code).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`));
    }
  });
});
