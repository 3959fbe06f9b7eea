/**
 * Proves the structured logs: LOG_LEVEL text parses to a level (unknown text: the quiet default,
 * `warn`), an event prints one JSON line only at or above the level (its fields cannot replace
 * level, event or time), and the app logs a request
 * that ended in a 5xx (with its problem code) as `requestFailed` but not a 4xx, a 2xx, nor
 * GET /v1/health's 503, which is its answer.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { logEvent, setLogLevel } from "../../src/router/log.ts";
import { setup } from "./harness.ts";

let lines: Record<string, unknown>[] = [];
beforeEach(() => {
  lines = [];
  vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(JSON.parse(String(line)) as Record<string, unknown>));
});
afterEach(() => {
  vi.restoreAllMocks();
  setLogLevel(undefined);
});

describe("structured logs", () => {
  it("parses LOG_LEVEL and prints only events at or above it, one JSON line each", () => {
    expect(setLogLevel(undefined)).toBe("warn");
    expect(setLogLevel("verbose")).toBe("warn");
    logEvent("info", "groupCreated", { group: "orders" });
    expect(lines).toEqual([]);
    expect(setLogLevel(" INFO ")).toBe("info");
    logEvent("info", "groupCreated", { group: "orders", replica: 2, level: "error", time: "never" });
    logEvent("debug", "noise");
    expect(lines).toEqual([{ level: "info", event: "groupCreated", time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), group: "orders", replica: 2 }]);
    setLogLevel("off");
    logEvent("error", "anything");
    expect(lines.length).toBe(1);
  });

  it("logs requests that ended in a 5xx, with their code, and nothing else, at the default level", async () => {
    setLogLevel(undefined);
    const { send, cluster } = setup();
    expect((await send("PUT", "/v1/kv/a", { body: "x" })).status).toBe(200);
    expect((await send("GET", "/v1/kv/missing")).status).toBe(404);
    cluster.healthy = false;
    expect((await send("GET", "/v1/health")).status).toBe(503);
    expect(lines).toEqual([]);
    cluster.failNext = { code: "unavailable", detail: "no leader" };
    expect((await send("GET", "/v1/kv/a")).status).toBe(503);
    cluster.throwNext = true;
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    expect((await send("PUT", "/v1/kv/b", { body: "y" })).status).toBe(500);
    expect(lines).toEqual([
      expect.objectContaining({ level: "warn", event: "requestFailed", method: "GET", path: "/v1/kv/a", status: 503, code: "unavailable" }),
      expect.objectContaining({ level: "warn", event: "requestFailed", method: "PUT", path: "/v1/kv/b", status: 500, code: "internal" }),
    ]);
  });
});
