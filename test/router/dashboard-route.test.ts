/**
 * Proves GET /dashboard serves one self-contained page without a token (the shell holds no data)
 * under a Content-Security-Policy that allows nothing from elsewhere, that its data routes still
 * need the admin token, and that other methods are a 405. The page itself is tested in Chromium
 * (test/e2e/dashboard.test.ts).
 */
import { describe, expect, it } from "vitest";
import { setup } from "./harness.ts";

describe("GET /dashboard", () => {
  it("serves the page to anyone, self-contained, with a strict policy", async () => {
    const { send } = setup();
    const response = await send("GET", "/dashboard", { token: null });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const policy = response.headers.get("content-security-policy") ?? "";
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("connect-src 'self'");
    const html = await response.text();
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect(html).toContain("sessionStorage");
    expect(html).not.toContain("localStorage");
    expect((await send("GET", "/v1/groups", { token: null })).status).toBe(401);
  });

  it("answers 405 to other methods", async () => {
    const { send } = setup();
    const response = await send("POST", "/dashboard", { token: null });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD");
  });
});
