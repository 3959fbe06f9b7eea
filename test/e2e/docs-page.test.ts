/**
 * Proves GET /openapi.json and GET /docs through a real wrangler dev: the Worker serves a valid
 * OpenAPI 3 document (the same validator as the unit test) without a token, and the /docs page
 * loads in a real headless Chromium (Debian's chromium driven by playwright-core), renders one
 * entry per documented operation with its parameters and answers, fetches nothing from elsewhere
 * and logs no console error. It saves a screenshot under test-results/.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseUrl } from "./client.ts";

const profile = mkdtempSync(join(tmpdir(), "edgeraft-chromium-docs-"));
let browser: BrowserContext;

beforeAll(async () => {
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
});

afterAll(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
});

describe("the API description through wrangler dev", () => {
  it("serves a valid OpenAPI 3 document without a token", async () => {
    const response = await fetch(`${baseUrl()}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy();
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(["/v1/kv/{key}", "/v1/groups/{name}/split", "/metrics", "/docs"]));
  });

  it("renders /docs in Chromium with every operation and no console error", async () => {
    const document = (await (await fetch(`${baseUrl()}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    const page = browser.pages()[0] ?? (await browser.newPage());
    const errors: string[] = [];
    const foreign: string[] = [];
    page.on("console", (message) => { if (message.type() === "error") errors.push(message.text()); });
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("request", (request) => { if (!request.url().startsWith(baseUrl()) && !request.url().startsWith("data:")) foreign.push(request.url()); });
    const response = await page.goto(`${baseUrl()}/docs`);
    expect(response?.status()).toBe(200);
    await page.locator("body[data-ready=true]").waitFor({ timeout: 20_000 });
    const rendered = await page.locator("details.operation").evaluateAll((nodes) => nodes.map((node) => `${node.getAttribute("data-method")} ${node.getAttribute("data-path")}`));
    expect(rendered.sort()).toEqual(operations.sort());
    const put = page.locator('details.operation[data-method=PUT][data-path="/v1/kv/{key}"]');
    await put.locator("summary").click();
    expect(await put.locator(".body").textContent()).toContain("if-match");
    expect(await put.locator(".body").textContent()).toContain("conditionFailed");
    const batch = page.locator('details.operation[data-method=POST][data-path="/v1/batch"]');
    await batch.locator("summary").click();
    expect(await batch.locator(".body pre").first().textContent()).toContain("operations:");
    expect(await page.locator("#error").textContent()).toBe("");
    mkdirSync("test-results", { recursive: true });
    await page.screenshot({ path: "test-results/docs.png", fullPage: false });
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
  });
});
