/**
 * Proves the dashboard in a real headless Chromium (Debian's chromium driven by playwright-core)
 * against the suite's wrangler dev: the page asks for the token and keeps it in sessionStorage
 * only, a late refusal of an earlier wrong token does not sign the right one out, shows the groups the test created (cards with replicas and leader, keyspace bar pieces),
 * a group created and one removed from the page take effect in the cluster, the keyspace cutting
 * handles groups owning several ranges, a split, a range move and a merge started from the page
 * reshape the cluster and the bar (one segment per range served), a "lead" click on a replica moves the
 * group's leadership to that replica, a follower cut off from its group shows its lag in entries and
 * in seconds, automatic groups are marked, and no console error occurs. It saves a screenshot under test-results/.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page, type Route } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EdgeraftClient } from "../../src/client/index.ts";
import { baseUrl, call } from "./client.ts";
import { e2eAdminToken } from "./wrangler.ts";

const chromiumPath = "/usr/bin/chromium";
const profile = mkdtempSync(join(tmpdir(), "edgeraft-chromium-"));
let browser: BrowserContext;
let page: Page;
/** Console errors with the URL they are about (for the browser's own reports of HTTP statuses). */
const consoleErrors: { text: string; url: string }[] = [];
const admin = () => new EdgeraftClient({ url: baseUrl(), token: e2eAdminToken });
/** Requests the wrong-token test holds back, answered only after the right token is in. */
const heldWithWrongToken: Route[] = [];

beforeAll(async () => {
  const client = admin();
  await client.groups.create({ name: "dash-orders", prefix: "dash-orders/", replicas: 3 });
  await client.groups.create({ name: "dash-late", start: "dash-t", end: "dash-w", replicas: 3 });
  await client.put("dash-orders/1", "one");
  await client.tenant("dash-tenant").put("profile", "x");
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1440, height: 1000 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on("console", (message) => { if (message.type() === "error") consoleErrors.push({ text: message.text(), url: message.location().url }); });
  page.on("pageerror", (error) => consoleErrors.push({ text: String(error), url: "" }));
});

// When a test fails with the page signed out, say which request's refusal signed it out.
afterEach(async (context) => {
  if (context.task.result?.state !== "fail" || page === undefined || !(await page.locator("#app").isHidden())) return;
  console.error(`dashboard test "${context.task.name}" failed with the page signed out: ${await page.locator("#gate-error").textContent()}`);
});

afterAll(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
});

describe("the dashboard in Chromium", () => {
  it("is served without a token, self-contained, and asks for the token", async () => {
    const response = await page.goto(`${baseUrl()}/dashboard`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-security-policy"]).toContain("default-src 'none'");
    await page.locator("#token-input").waitFor();
    expect(await page.locator("#app").isHidden()).toBe(true);
    const html = await response!.text();
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  it("refuses a wrong token and shows why", async () => {
    // Hold back the wrong token's health request, as a slow answer would be (seen in CI).
    await page.route("**/v1/health", async (route) => {
      if (route.request().headers()["authorization"] === "Bearer not-the-token") heldWithWrongToken.push(route);
      else await route.continue();
    });
    await page.fill("#token-input", "not-the-token");
    await page.click("#token-form button[type=submit]");
    await expect.poll(() => page.locator("#gate-error").textContent()).toContain("not valid");
    expect(await page.evaluate(() => sessionStorage.getItem("edgeraft.adminToken"))).toBeNull();
    expect(await page.locator("#gate-error").textContent()).toMatch(/^GET \/v1\/(groups|health) 401: /);
  });

  it("stays signed in when a refusal of the earlier wrong token arrives after the right one", async () => {
    await page.fill("#token-input", e2eAdminToken);
    await page.click("#token-form button[type=submit]");
    await page.locator("article[data-group=dash-orders]").waitFor();
    expect(heldWithWrongToken.length).toBe(1);
    const lateRefusal = page.waitForResponse((response) => response.url().endsWith("/v1/health") && response.status() === 401);
    await heldWithWrongToken[0]!.continue();
    await lateRefusal;
    await page.unroute("**/v1/health");
    await page.waitForTimeout(500); // the page has read the late answer by now
    expect(await page.locator("#app").isHidden()).toBe(false);
    expect(await page.evaluate(() => sessionStorage.getItem("edgeraft.adminToken"))).toBe(e2eAdminToken);
  });

  it("shows the groups, their replicas with the leader, and the keyspace cut by group", async () => {
    await page.locator("article[data-group=dash-orders]").waitFor();
    await expect.poll(() => page.locator("article[data-group=dash-orders] tr.leader").count(), { timeout: 20_000 }).toBe(1);
    expect(await page.locator("article[data-group=dash-orders] tbody tr").count()).toBe(3);
    expect(await page.locator("article[data-group=dash-orders] .owns").textContent()).toBe('prefix "dash-orders/"');
    expect(await page.locator("article[data-group=dash-late] .owns").textContent()).toBe('["dash-t", "dash-w")');
    const pieces = await page.locator("#keyspace .segment").evaluateAll((nodes) => nodes.map((node) => node.getAttribute("data-group")));
    // Other test files share this server and add groups of their own: look at this file's groups.
    const ours = pieces.filter((piece) => piece?.startsWith("dash-"));
    expect(ours).toEqual(["dash-orders", "dash-late"]);
    expect(pieces[pieces.indexOf("dash-orders") + 1]).toBe("default");
    expect(pieces.at(-1)).toBe("default");
    expect(await page.locator("#tenants [data-tenant-group=tenant-dash-tenant]").count()).toBe(1);
    expect(await page.evaluate(() => [sessionStorage.getItem("edgeraft.adminToken"), localStorage.length])).toEqual([e2eAdminToken, 0]);
  });

  it("cuts the keyspace for groups owning several ranges (shapes the API may answer later)", async () => {
    const segments = await page.evaluate(() => (globalThis as unknown as { keyspaceSegments(groups: unknown[]): { group: string; text: string }[] }).keyspaceSegments([
      { name: "default", owns: { default: true } },
      { name: "multi", owns: [{ start: "a", end: "c" }, { start: "x" }] },
      { name: "inner", owns: [{ prefix: "b" }] },
    ]));
    expect(segments.map((segment) => `${segment.group} ${segment.text}`)).toEqual([
      'default [start, "a")', 'multi ["a", "b")', "inner b*", 'default [after "b"*, "x")', 'multi ["x", end)',
    ]);
  });

  it("creates a group from the page and the cluster has it", async () => {
    await page.fill("#create-name", "dash-made");
    await page.click("#kind-range");
    await page.fill("#create-start", "dash-c");
    await page.fill("#create-end", "dash-e");
    await page.click("#create-submit");
    await page.locator("article[data-group=dash-made]").waitFor({ timeout: 30_000 });
    const made = (await admin().groups.list()).find((group) => group.name === "dash-made");
    expect(made?.owns).toEqual({ start: "dash-c", end: "dash-e" });
    await expect.poll(() => page.locator("#keyspace .segment[data-group=dash-made]").count()).toBe(1);
  });

  it("removes a group from the page (two clicks) and the cluster no longer has it", async () => {
    const button = page.locator("article[data-group=dash-late] button[data-action=remove]");
    await button.click();
    await expect.poll(() => button.textContent()).toBe("Confirm remove");
    await button.click();
    await page.locator("article[data-group=dash-late]").waitFor({ state: "detached", timeout: 30_000 });
    expect((await admin().groups.list()).map((group) => group.name)).not.toContain("dash-late");
    expect(await page.locator("article[data-group=default] button[data-action=remove]").count()).toBe(0);
  });

  it("splits a group from the page at a key, draws one segment per range it serves, merges it back and moves a range", async () => {
    const client = admin();
    await client.groups.create({ name: "dash-shape", prefix: "dash-shape/", replicas: 3 });
    for (const letter of "abcdef") await client.put(`dash-shape/${letter}`, letter);
    await page.locator("#split-group option[value=dash-shape]").waitFor({ state: "attached", timeout: 20_000 });
    await page.selectOption("#split-group", "dash-shape");
    await page.fill("#split-at", "dash-shape/d");
    await page.fill("#split-name", "dash-shape-hi");
    await page.click("#split-submit");
    await page.locator("#keyspace .segment[data-group=dash-shape-hi]").waitFor({ timeout: 60_000 });
    const split = (await client.groups.list()).find((group) => group.name === "dash-shape-hi");
    expect(split?.ranges).toEqual([{ start: "dash-shape/d", end: "dash-shape0" }]);
    expect((await client.get("dash-shape/e"))?.group).toBe("dash-shape-hi");
    const ours = async () => (await page.locator("#keyspace .segment").evaluateAll((nodes) => nodes.map((node) => `${node.getAttribute("data-group")} ${node.querySelector("small")?.textContent}`)))
      .filter((text) => text.startsWith("dash-shape"));
    await expect.poll(ours).toEqual(['dash-shape ["dash-shape/", "dash-shape/d")', 'dash-shape-hi ["dash-shape/d", after "dash-shape/"*)']);
    expect(await page.locator("article[data-group=dash-shape-hi] .ranges code").textContent()).toBe('["dash-shape/d", after "dash-shape/"*)');

    await page.fill("#move-start", "dash-shape/b");
    await page.fill("#move-end", "dash-shape/c");
    await page.selectOption("#move-to", "default");
    await page.click("#move-submit");
    await expect.poll(async () => page.locator("#keyspace .segment[data-group=dash-shape]").count(), { timeout: 60_000 }).toBe(2);
    expect((await client.get("dash-shape/b"))?.group).toBe("default");
    const shape = (await client.groups.list()).find((group) => group.name === "dash-shape");
    expect(shape?.ranges).toEqual([{ start: "dash-shape/", end: "dash-shape/b" }, { start: "dash-shape/c", end: "dash-shape/d" }]);

    await page.selectOption("#merge-group", "dash-shape");
    await page.dispatchEvent("#merge-group", "change");
    await expect.poll(() => page.locator("#merge-with option").evaluateAll((nodes) => nodes.map((node) => node.getAttribute("value")))).toContain("dash-shape-hi");
    await page.selectOption("#merge-with", "dash-shape-hi");
    await page.click("#merge-submit");
    await page.locator("#keyspace .segment[data-group=dash-shape-hi]").waitFor({ state: "detached", timeout: 60_000 });
    expect((await client.groups.list()).map((group) => group.name)).not.toContain("dash-shape-hi");
    expect((await client.get("dash-shape/e"))?.group).toBe("dash-shape");
    await expect.poll(() => page.locator("#toasts .toast.good").allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining("Merged dash-shape-hi into dash-shape")]));
  });

  it("transfers a group's leadership from the page: the replica clicked becomes the leader, in the cluster too", async () => {
    const card = page.locator("article[data-group=dash-orders]");
    await expect.poll(() => card.locator("tr.leader").count(), { timeout: 20_000 }).toBe(1);
    const leader = Number(await card.locator("tr.leader").getAttribute("data-replica"));
    const target = leader === 2 ? 3 : 2;
    expect(await card.locator("tr.leader button[data-action=lead]").count()).toBe(0);
    await card.locator(`tr[data-replica="${target}"] button[data-action=lead]`).click();
    await expect.poll(() => page.locator("#toasts .toast.good").allTextContents(), { timeout: 20_000 })
      .toEqual(expect.arrayContaining([`Replica ${target} leads dash-orders (was ${leader})`]));
    await expect.poll(() => card.locator("tr.leader").getAttribute("data-replica"), { timeout: 20_000 }).toBe(String(target));
    expect((await admin().groups.get("dash-orders")).health.leader).toBe(target);
  });

  it("shows each replica's lag in entries and in seconds: a follower cut off from its group falls behind in both", async () => {
    const client = admin();
    await client.groups.create({ name: "dash-lag", prefix: "dash-lag/", replicas: 3 });
    const card = page.locator("article[data-group=dash-lag]");
    await expect.poll(() => card.locator("tr.leader").count(), { timeout: 30_000 }).toBe(1);
    const leader = Number(await card.locator("tr.leader").getAttribute("data-replica"));
    const follower = leader === 1 ? 2 : 1;
    const isolated = await call("/v1/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ kind: "isolate", group: "dash-lag", replica: follower }) });
    expect(isolated.status).toBe(200);
    try {
      for (let index = 0; index < 6; index++) await client.put(`dash-lag/${index}`, `value ${index}`);
      const lagCell = (replica: number) => card.locator(`tr[data-replica="${replica}"] td`).nth(5);
      const seconds = async (replica: number) => Number((await lagCell(replica).locator(".lag-seconds").textContent())?.replace(" s", ""));
      await expect.poll(() => seconds(follower), { timeout: 20_000, interval: 250 }).toBeGreaterThan(1);
      expect(Number(await lagCell(follower).locator(".lag").textContent())).toBeGreaterThan(0);
      expect(await lagCell(leader).locator(".lag-seconds").textContent()).toBe("0.0 s");
    } finally {
      await call("/v1/faults", { method: "DELETE" });
    }
    await client.put("dash-lag/after", "heal"); // a new entry carries the follower's catch-up
  });

  it("marks groups an automatic split made in the keyspace bar", async () => {
    // Runs in the page (a string: this project's TypeScript has no DOM types); `h` is a minimal element builder.
    const marked = await page.evaluate<string[]>(`(() => {
      const h = (tag, attributes, children) => {
        const node = document.createElement(tag);
        for (const [name, value] of Object.entries(attributes)) if (value !== null && name !== "onclick" && name !== "text") node.setAttribute(name, value);
        if (attributes.text) node.textContent = attributes.text;
        for (const child of children || []) node.append(child);
        return node;
      };
      const bar = document.createElement("div");
      drawKeyspace(bar, document.createElement("div"), [
        { name: "default", owns: { default: true }, ranges: [{ start: "", end: "m" }] },
        { name: "default-0a1b2c", owns: { start: "m" }, ranges: [{ start: "m" }], auto: true },
      ], h);
      return [...bar.querySelectorAll(".segment")].map((node) => node.getAttribute("data-group") + " " + node.getAttribute("data-auto") + " " + node.querySelector("b").textContent);
    })()`);
    expect(marked).toEqual(["default null default", "default-0a1b2c true \u2699 default-0a1b2c"]);
  });

  it("shows the commit and request rates under writes, takes a screenshot, and logged no console errors", async () => {
    const client = admin();
    const stopAt = Date.now() + 5_000;
    for (let index = 0; Date.now() < stopAt; index++) await client.put(`dash-orders/${index % 20}`, `order ${index}`);
    const rate = async () => Number(await page.locator("article[data-group=dash-orders] .meta b").nth(3).textContent());
    await expect.poll(rate, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(Number(await page.locator("#stat-rate").textContent())).toBeGreaterThanOrEqual(0);
    await expect.poll(async () => Number(await page.locator("#stat-requests").textContent()), { timeout: 10_000 }).toBeGreaterThan(0);
    mkdirSync("test-results", { recursive: true });
    await page.evaluate("window.scrollTo(0, 0)"); // the forms' clicks scrolled; the header is sticky
    await page.screenshot({ path: "test-results/dashboard.png", fullPage: true });
    // Chromium reports every HTTP error status of a fetch as a console error. Two are answers, not
    // page errors: the 401 the wrong-token test provoked, and a 503 from /v1/health, which is how
    // that route says a group is unhealthy (a new group before its first election, a busy machine).
    const answers = (error: { text: string; url: string }) =>
      (error.text.includes("status of 401") && /\/(v1\/groups|v1\/health|metrics)$/.test(error.url)) || (error.text.includes("status of 503") && error.url.endsWith("/v1/health"));
    expect(consoleErrors.some((error) => error.text.includes("status of 401"))).toBe(true);
    expect(consoleErrors.filter((error) => !answers(error))).toEqual([]);
  });
});
