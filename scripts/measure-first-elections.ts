/**
 * `node scripts/measure-first-elections.ts [groups] [tenants] [deno|wrangler]`: how a new group's
 * first election goes on a 3-node Deno cluster (free loopback ports, 50 ms ticks as the e2e suite,
 * LOG_LEVEL=info), or on `wrangler dev` (a free port, 50 ms ticks as the e2e suite).
 * Creates `groups` groups one after another (POST /v1/groups, entering through the nodes in turn),
 * writes one key in each right after, then gives `tenants` tenants their group by first use (a
 * PUT under /v1/tenants/{tenant}/kv). It reports, per group, the term GET /v1/groups/{name} shows
 * right after the first write (the first election's term is 2: a group is bootstrapped at term 1)
 * and, on Deno, the elections won before that write (the nodes' electionWon log lines), and the
 * time from the create request to the first successful write. LOGS=dir keeps each node's output
 * there (node-N.log).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDenoCluster } from "../test/e2e/deno-cluster.ts";
import { e2eAdminToken, startWrangler } from "../test/e2e/wrangler.ts";

const groupCount = Number(process.argv[2] ?? 30);
const tenantCount = Number(process.argv[3] ?? 5);
const headers = { authorization: `Bearer ${e2eAdminToken}`, "content-type": "application/json" };
const dataDirectory = mkdtempSync(join(tmpdir(), "edgeraft-first-elections-"));
const host = process.argv[4] ?? "deno";
const cluster = await (host === "wrangler" ? wranglerAsCluster() : startDenoCluster({ dataDirectory, envOf: () => ({ LOG_LEVEL: "info" }) })).catch((error: unknown) => {
  rmSync(dataDirectory, { recursive: true, force: true });
  throw error;
});
const nodeIds = cluster.urls.map((_, i) => i + 1);
const run = Date.now().toString(36);

interface Measured {
  group: string;
  createMs: number;
  firstWriteMs: number;
  writeAttempts: number;
  endMs: number;
  healthTerm: number;
  healthLeader: number;
}

/** Writes `path` until it answers 200 (at most 20 s); the attempts it took. */
async function writeUntilOk(url: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const status = (await fetch(url, { method: "PUT", body: "v", headers })).status;
    if (status === 200) return attempt;
    if (attempt >= 200) throw new Error(`${url}: still ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const measured: Measured[] = [];
try {
  for (let i = 0; i < groupCount; i++) {
    const base = cluster.urls[i % cluster.urls.length]!;
    const group = `fe-${run}-${i}`;
    const startMs = Date.now();
    const created = await fetch(`${base}/v1/groups`, { method: "POST", headers, body: JSON.stringify({ name: group, prefix: `${group}/` }) });
    if (created.status !== 201) throw new Error(`create ${group}: ${created.status} ${await created.text()}`);
    const createdMs = Date.now();
    const writeAttempts = await writeUntilOk(`${base}/v1/kv/${group}/k`);
    const endMs = Date.now();
    measured.push({ group, createMs: createdMs - startMs, firstWriteMs: endMs - startMs, writeAttempts, endMs, ...(await leadership(base, group)) });
  }
  for (let i = 0; i < tenantCount; i++) {
    const base = cluster.urls[i % cluster.urls.length]!;
    const tenant = `fe${run}t${i}`;
    const startMs = Date.now();
    const writeAttempts = await writeUntilOk(`${base}/v1/tenants/${tenant}/kv/k`);
    const endMs = Date.now();
    measured.push({ group: `tenant-${tenant}`, createMs: 0, firstWriteMs: endMs - startMs, writeAttempts, endMs, ...(await leadership(base, `tenant-${tenant}`)) });
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const wins = nodeIds.flatMap((id) => eventsOf(cluster.output(id))).filter((event) => event.event === "electionWon");
  const rows = measured.map((m) => {
    const won = wins.filter((event) => event.group === m.group && Date.parse(String(event.time)) <= m.endMs);
    return { ...m, elections: host === "wrangler" ? "?" : won.length, term: m.healthTerm };
  });
  for (const row of rows) console.log(`${row.group.padEnd(28)} create ${String(row.createMs).padStart(5)} ms  first write ${String(row.firstWriteMs).padStart(5)} ms (${row.writeAttempts} attempts)  elections won ${row.elections}  term ${row.term}  leader ${row.healthLeader}`);
  const summarize = (label: string, of: typeof rows) => {
    if (of.length === 0) return;
    const sorted = of.map((row) => row.firstWriteMs).sort((a, b) => a - b);
    const contested = of.filter((row) => row.term !== 2).length;
    const terms = of.map((row) => row.term);
    console.log(
      `${label}: ${of.length} groups; first election's term (2) kept by ${of.length - contested}, contested ${contested}; ` +
        `mean term ${(terms.reduce((a, b) => a + b, 0) / terms.length).toFixed(2)}, max ${Math.max(...terms)}; ` +
        `create-to-first-write median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms`,
    );
  };
  summarize("created groups", rows.filter((row) => !row.group.startsWith("tenant-")));
  summarize("tenant groups", rows.filter((row) => row.group.startsWith("tenant-")));
} finally {
  if (process.env.LOGS !== undefined) for (const id of nodeIds) writeFileSync(join(process.env.LOGS, `node-${id}.log`), cluster.output(id));
  await cluster.stop();
  rmSync(dataDirectory, { recursive: true, force: true });
}

/** The group's leader and term as GET /v1/groups/{name} shows them. */
async function leadership(base: string, group: string): Promise<{ healthTerm: number; healthLeader: number }> {
  const response = await fetch(`${base}/v1/groups/${group}`, { headers });
  const { health } = (await response.json()) as { health: { leader: number; term: number } };
  return { healthTerm: health.term, healthLeader: health.leader };
}

/** wrangler dev on a free port, seen as a one-node cluster. */
async function wranglerAsCluster(): Promise<{ urls: string[]; output(id: number): string; stop(): Promise<void> }> {
  const wrangler = await startWrangler({ persistDir: dataDirectory, vars: { LOG_LEVEL: "info" } });
  return { urls: [wrangler.url], output: () => wrangler.output(), stop: () => wrangler.stop() };
}

function eventsOf(output: string): Record<string, unknown>[] {
  return output.split("\n").flatMap((line) => {
    if (!line.startsWith("{")) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}
