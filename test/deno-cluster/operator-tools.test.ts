/**
 * Proves the CLI and the dashboard work against a node of a real 3-process Deno cluster, as they do
 * against wrangler dev: `edgeraft put/get/scan` round-trip keys; `groups create/ls/show`, `health`
 * and `top --iterations 1` print the group with its leader and its lag in entries and in seconds
 * (the leader 0.0s), and the node of each replica (`groups show`, and the leader's in `groups ls`); `health --json` is the route's answer; and the dashboard, in a real headless
 * Chromium, signs in, shows the group's card with its leader, each replica's node, and each replica's lag in entries and
 * seconds, creates a group from the page that the cluster then has, and logs no console error;
 * the node's /openapi.json passes the OpenAPI 3 validator and /docs renders every operation in it.
 */
import SwaggerParser from "@apidevtools/swagger-parser";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Page } from "playwright-core";
import { describe, expect, inject, it } from "vitest";
import { EdgeraftClient } from "../../src/client/index.ts";
import { e2eAdminToken } from "../e2e/wrangler.ts";

/** Node 3: not the node the rest of the suite enters through. */
const nodeUrl = () => inject("denoNodeUrls")[2]!;
const group = "deno-tools";

type Run = { code: number | null; stdout: string; stderr: string };

/** Runs the CLI with `args` against the Deno node, the admin token in the environment. */
function cli(args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [resolve("bin/edgeraft.ts"), ...args], {
    env: { ...process.env, EDGERAFT_URL: nodeUrl(), EDGERAFT_TOKEN: e2eAdminToken }, stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += String(chunk)));
  child.stderr.on("data", (chunk: Buffer) => (stderr += String(chunk)));
  return new Promise((done) => child.on("close", (code) => done({ code, stdout, stderr })));
}

/** The line of `table` that `row` matches. */
function lineOf(table: string, row: RegExp): string {
  const line = table.split("\n").find((candidate) => row.test(candidate));
  if (line === undefined) throw new Error(`no row ${row} in:\n${table}`);
  return line;
}

/** Runs `use` with a page of a fresh headless Chromium, closed after. */
async function withPage(use: (page: Page) => Promise<void>): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), "edgeraft-chromium-deno-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium", headless: true, viewport: { width: 1440, height: 1000 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  try {
    await use(browser.pages()[0] ?? (await browser.newPage()));
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

describe("the CLI and the dashboard against a Deno node", () => {
  it("the CLI reads and writes keys, and shows groups, health and top with lag in entries and seconds", async () => {
    const created = await cli(["groups", "create", group, "--prefix", `${group}/`, "--replicas", "3"]);
    expect(created.code, created.stderr).toBe(0);
    for (const [key, value] of [["a", "one"], ["b", "two"]] as const) expect((await cli(["put", `${group}/${key}`, value])).code).toBe(0);
    const read = await cli(["get", `${group}/b`]);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout).toContain("two");
    const scanned = await cli(["scan", "--prefix", `${group}/`, "--json"]);
    expect(scanned.code, scanned.stderr).toBe(0);
    expect(scanned.stdout).toContain(`${group}/a`);
    expect((await cli(["get", `${group}/absent`])).code).toBe(1);

    const listed = await cli(["groups", "ls"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/GROUP\s+OWNS\s+REPLICAS\s+LEADER\s+TERM\s+COMMIT\s+LAG\s+LAG TIME\s+QUIESCED\s+HEALTHY/);
    expect(lineOf(listed.stdout, new RegExp(`^${group}\\s`))).toMatch(/\s\d+\.\ds\s/);
    expect(lineOf(listed.stdout, new RegExp(`^${group}\\s`))).toMatch(/\s\d@node\d\s/); // LEADER: replica@node

    const shown = await cli(["groups", "show", group]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/REPLICA\s+LOCATION\s+ROLE\s+COMMIT\s+APPLIED\s+LAG\s+LAG TIME\s+QUIESCED/);
    expect(lineOf(shown.stdout, /^\d\*\s/)).toMatch(/\sleader\s.*\s\d+\s+0\.0s\s/);
    // LOCATION names the node that runs each replica: the three replicas on the three nodes.
    expect(shown.stdout.split("\n").filter((line) => /^\d\*?\s/.test(line)).map((line) => /\snode (\d)\s/.exec(line)?.[1]).sort()).toEqual(["1", "2", "3"]);

    const health = await cli(["health"]);
    expect([0, 1]).toContain(health.code);
    expect(health.stdout).toMatch(/GROUP\s+LEADER\s+TERM\s+REACHABLE\s+LAG\s+LAG TIME\s+HEALTHY/);
    expect(lineOf(health.stdout, new RegExp(`^${group}\\s`))).toMatch(/\s3\/3\s+\d+\s+\d+\.\ds\s/);
    expect(health.stdout).toMatch(/\d+ groups: \d+ with a leader, \d+ healthy, \d+ lagging \(over \d+ entries or 30 s\), \d+ quiesced/);
    const healthJson = await cli(["health", "--json"]);
    const answer = JSON.parse(healthJson.stdout) as { healthy: boolean; lagSecondsMax: number; groups: { name: string; replicas: { lagSeconds?: number }[] }[] };
    expect(healthJson.code).toBe(answer.healthy ? 0 : 1);
    expect(answer.lagSecondsMax).toBe(30);
    expect(answer.groups.find((candidate) => candidate.name === group)?.replicas.some((replica) => replica.lagSeconds === 0)).toBe(true);

    const top = await cli(["top", "--iterations", "1"]);
    expect(top.code, top.stderr).toBe(0);
    expect(top.stdout).toContain(`edgeraft top: ${nodeUrl()}`);
    expect(lineOf(top.stdout, new RegExp(`^${group}\\s`))).toMatch(/\s\d+\.\ds\s/);
  });

  it("the dashboard in Chromium shows the group with its leader and lag, and creates a group", async () => {
    await withPage(async (page) => {
      const consoleErrors: { text: string; url: string }[] = [];
      page.on("console", (message) => { if (message.type() === "error") consoleErrors.push({ text: message.text(), url: message.location().url }); });
      page.on("pageerror", (error) => consoleErrors.push({ text: String(error), url: "" }));
      expect((await page.goto(`${nodeUrl()}/dashboard`))?.status()).toBe(200);
      await page.fill("#token-input", e2eAdminToken);
      await page.click("#token-form button[type=submit]");
      const card = page.locator(`article[data-group=${group}]`);
      await expect.poll(() => card.locator("tr.leader").count(), { timeout: 30_000 }).toBe(1);
      expect(await card.locator("tbody tr").count()).toBe(3);
      expect((await card.locator("tbody tr td .loc").allTextContents()).sort()).toEqual(["node 1", "node 2", "node 3"]);
      await expect.poll(() => card.locator("tr.leader td").nth(5).locator(".lag-seconds").textContent(), { timeout: 20_000 }).toBe("0.0 s");
      expect(await card.locator("tr.leader td").nth(5).locator(".lag").textContent()).toBe("0");

      await page.fill("#create-name", "deno-made");
      await page.fill("#create-prefix", "deno-made/");
      await page.click("#create-submit");
      await page.locator("article[data-group=deno-made]").waitFor({ timeout: 60_000 });
      const made = (await new EdgeraftClient({ url: nodeUrl(), token: e2eAdminToken }).groups.list()).find((candidate) => candidate.name === "deno-made");
      expect(made?.owns).toEqual({ prefix: "deno-made/" });
      // A 503 from /v1/health is an answer (a new group before its first election), not a page error.
      expect(consoleErrors.filter((error) => !(error.text.includes("status of 503") && error.url.endsWith("/v1/health")))).toEqual([]);
    });
  });

  it("serves a valid OpenAPI 3 document, and /docs renders every operation in Chromium", async () => {
    const document = (await (await fetch(`${nodeUrl()}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy();
    const operations = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    expect(operations).toEqual(expect.arrayContaining(["GET /v1/kv/{key}", "GET /metrics", "GET /v1/health", "GET /dashboard"]));
    await withPage(async (page) => {
      const errors: string[] = [];
      page.on("console", (message) => { if (message.type() === "error") errors.push(message.text()); });
      page.on("pageerror", (error) => errors.push(String(error)));
      expect((await page.goto(`${nodeUrl()}/docs`))?.status()).toBe(200);
      await page.locator("body[data-ready=true]").waitFor({ timeout: 20_000 });
      const rendered = await page.locator("details.operation").evaluateAll((nodes) => nodes.map((node) => `${node.getAttribute("data-method")} ${node.getAttribute("data-path")}`));
      expect(rendered.sort()).toEqual(operations.sort());
      expect(await page.locator("#error").textContent()).toBe("");
      expect(errors).toEqual([]);
    });
  });
});
