/**
 * `npm run bench:idle` (`-- --quick` in CI): what idle groups cost in workerd (Miniflare's Node
 * API, real Durable Objects and SQLite, default timing), and how fast a group answers when used.
 * 1. Tenants' first requests (each creates the tenant's group): latency p50 over the first 20.
 * 2. Those and more groups (100; 10 with --quick) go idle; over a window of 60 s (15 s) in which
 *    GET /v1/health and GET /metrics are scraped every 15 s (5 s), every replica's durable event
 *    counters (alarms fired, Raft requests and messages received, object starts) are read before
 *    and after: the cost per idle group. The scrapes read the stats object, so the only starts
 *    are the final read's own (one per object that hibernated); more fails the run.
 * 3. The first write to 20 (5) idle groups against five warm writes to the same group right after:
 *    latency ratio, and whether any group's term moved (an election).
 * 4. The same after the runtime was stopped and started again on the same storage, so every object
 *    lost its memory as a hibernated one does: replicas resume from their quiet notes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleWorker } from "./bench/bundle.ts";
import { stopAll, stopAllOnSignals } from "./bench/cleanup.ts";
import { startMiniflare } from "./bench/miniflare-host.ts";

const quick = process.argv.includes("--quick");
const groupsCount = quick ? 10 : 100;
const windowMs = quick ? 15_000 : 60_000;
const scrapeEveryMs = quick ? 5_000 : 15_000;
const firstRequests = quick ? 5 : 20;
const adminToken = "bench-idle-admin";
/** `--leader-balance`: keep the metadata group's leader balancer on (by default off: its transfers spread new groups' leaders, which is placement work, not idle cost). */
const extraBindings: Record<string, string> = process.argv.includes("--leader-balance") ? {} : { LEADER_BALANCE_MS: "off" };
const replicaIds = [1, 2, 3];

type Events = { starts: number; alarms: number; raftBatches: number; raftMessages: number };
type Status = { kind: string; status?: { role: string; term: number; leader: number; quiesced: boolean }; traffic?: { events?: Events } };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  stopAllOnSignals();
  const directory = mkdtempSync(join(tmpdir(), "edgeraft-bench-idle-"));
  const bundle = await bundleWorker(join(directory, "bundle"));
  let host = await startMiniflare({ bundle, stateDirectory: join(directory, "state"), adminToken, bindings: { LOG_LEVEL: "off", ...extraBindings } });
  let replicas = await host.replicaNamespace();
  const call = async (path: string, init: RequestInit = {}) => {
    const began = performance.now();
    let response: Response | undefined;
    for (let attempt = 1; response === undefined; attempt++) {
      try {
        response = await fetch(`${host.url}${path}`, { ...init, headers: { authorization: `Bearer ${adminToken}`, ...init.headers } });
      } catch (error) {
        // workerd under a loaded machine sometimes closes a connection; the writes here are idempotent
        if (attempt === 3) throw error;
        console.error(`bench:idle: ${init.method ?? "GET"} ${path} failed (${String(error)}); again`);
      }
    }
    await response.arrayBuffer();
    if (response.status >= 300 && path !== "/v1/health") throw new Error(`${init.method ?? "GET"} ${path}: ${response.status}`);
    return performance.now() - began;
  };
  /** A replica's status (no answer in 10 s: `kind: "noAnswer"`, so a stuck object cannot stall the run). */
  const status = async (group: string, id: number): Promise<Status> => {
    const read = (async () => (await (await replicas.get(`${group}/${id}`).fetch("https://replica/internal/status")).json()) as Status)();
    const timeout = new Promise<Status>((resolve) => setTimeout(() => resolve({ kind: "noAnswer" }), 10_000).unref());
    return Promise.race([read, timeout.then((answer) => (read.catch(() => undefined), answer))]);
  };
  const groupStatuses = (group: string) => Promise.all(replicaIds.map((id) => status(group, id)));
  const tenants = Array.from({ length: groupsCount }, (_, i) => `idle-${i + 1}`);
  const groupOf = (tenant: string) => `tenant-${tenant}`;
  const termsOf = async (tenant: string) => (await groupStatuses(groupOf(tenant))).map((answer) => answer.status?.term ?? -1);
  /** The first write to each group, then five warm ones right after; counts the groups whose term moved. */
  const firstWrites = async (list: string[]) => {
    const result = { first: [] as number[], warm: [] as number[], elections: 0 };
    for (const tenant of list) {
      const termsBefore = await termsOf(tenant);
      result.first.push(await call(`/v1/tenants/${tenant}/kv/k`, { method: "PUT", body: "first" }));
      for (let warm = 0; warm < 5; warm++) result.warm.push(await call(`/v1/tenants/${tenant}/kv/k`, { method: "PUT", body: "warm" }));
      if (Math.max(...(await termsOf(tenant))) !== Math.max(...termsBefore)) result.elections++;
    }
    return result;
  };
  try {
    await call("/v1/kv/warm-up", { method: "PUT", body: "x" }); // metadata and default group exist first
    const firstLatencies: number[] = [];
    for (const tenant of tenants.slice(0, Math.min(20, tenants.length))) firstLatencies.push(await call(`/v1/tenants/${tenant}/kv/k`, { method: "PUT", body: "v" }));
    for (let i = 20; i < tenants.length; i += 4) {
      await Promise.all(tenants.slice(i, i + 4).map((tenant) => call(`/v1/tenants/${tenant}/kv/k`, { method: "PUT", body: "v" })));
    }
    console.error(`bench:idle: ${tenants.length} tenant groups created; waiting for them to go idle`);

    const idleSince = Date.now();
    for (let round = 1; ; round++) {
      const awake: string[] = [];
      for (const tenant of tenants) {
        const statuses = await groupStatuses(groupOf(tenant));
        for (const [i, answer] of statuses.entries()) if (answer.status?.quiesced !== true) awake.push(`${groupOf(tenant)}/${replicaIds[i]} (${answer.kind}, ${answer.status?.role ?? "?"})`);
      }
      if (awake.length === 0 && Date.now() - idleSince > 7_000) break; // IDLE_AFTER_MS (5 s) passed
      if (Date.now() - idleSince > 180_000) throw new Error(`not idle after 3 minutes: ${awake.join(", ")}`);
      if (round % 10 === 0) console.error(`bench:idle: ${awake.length} replicas not quiet yet: ${awake.slice(0, 6).join(", ")}`);
      await sleep(1_000);
    }
    /** Every replica's counters; a read that got no answer is repeated (the counters are durable, so a late read is as good). */
    const eventsOfReplica = async (group: string, id: number): Promise<Events> => {
      for (let attempt = 1; ; attempt++) {
        const events = (await status(group, id)).traffic?.events;
        if (events !== undefined) return events;
        if (attempt === 6) throw new Error(`${group}/${id} did not report its counters`);
      }
    };
    const eventsOf = async () => {
      const all = new Map<string, Events[]>();
      for (const tenant of tenants) all.set(tenant, await Promise.all(replicaIds.map((id) => eventsOfReplica(groupOf(tenant), id))));
      return all;
    };
    const before = await eventsOf();
    const windowBegan = Date.now();
    let scrapes = 0;
    while (Date.now() - windowBegan < windowMs) {
      await sleep(Math.min(scrapeEveryMs, windowMs - (Date.now() - windowBegan)));
      await call("/v1/health");
      await call("/metrics");
      scrapes++;
    }
    const after = await eventsOf();
    const perGroup = tenants.map((tenant) => {
      const sum = (events: (Events | undefined)[] | undefined, name: keyof Events) => (events ?? []).reduce((total, counts) => total + (counts?.[name] ?? Number.NaN), 0);
      const delta = (name: keyof Events) => sum(after.get(tenant), name) - sum(before.get(tenant), name);
      return { alarms: delta("alarms"), raftBatches: delta("raftBatches"), raftMessages: delta("raftMessages"), starts: delta("starts") };
    });
    const total = (name: keyof (typeof perGroup)[number]) => perGroup.reduce((sum, group) => sum + group[name], 0);

    const wake = await firstWrites(tenants.slice(-firstRequests));
    await host.stop();
    host = await startMiniflare({ bundle, stateDirectory: join(directory, "state"), adminToken, bindings: { LOG_LEVEL: "off", ...extraBindings } });
    replicas = await host.replicaNamespace();
    await call("/v1/kv/warm-up", { method: "PUT", body: "x" }); // the router's own warm-up, not a group's
    const restarted = await firstWrites(tenants.slice(-2 * firstRequests, -firstRequests));

    const lines = [
      `bench:idle${quick ? " --quick" : ""}: ${new Date().toISOString()}, workerd ${host.workerdVersion} through Miniflare, default timing (100 ms ticks, IDLE_AFTER_MS 5000), leader balancing ${extraBindings.LEADER_BALANCE_MS === "off" ? "off" : "on"}`,
      `tenant first request (creates its group), ${firstLatencies.length} tenants: p50 ${round(percentile(firstLatencies, 50))} ms, p90 ${round(percentile(firstLatencies, 90))} ms, max ${round(Math.max(...firstLatencies))} ms`,
      `${tenants.length} idle groups x ${windowMs / 1000} s, ${scrapes} scrapes of /v1/health and /metrics each:`,
      `  alarms fired: ${total("alarms")} (${round(total("alarms") / tenants.length, 3)} per idle group)`,
      `  Raft requests received: ${total("raftBatches")}, messages: ${total("raftMessages")} (${round(total("raftMessages") / tenants.length, 3)} per idle group)`,
      `  object starts: ${total("starts")} (at most one per object, ${tenants.length * replicaIds.length}, is the final counter read's own: scrapes read the stats object and start none)`,
      describeWrites("first write after idle vs the five warm writes right after", wake),
      describeWrites("the same after a restart of the runtime (every object lost its memory)", restarted),
    ];
    console.log(lines.join("\n"));
    const scrapeStarts = total("starts") > tenants.length * replicaIds.length; // more than the final read's own: a scrape woke objects
    if (total("alarms") > 0 || total("raftMessages") > 0 || scrapeStarts || wake.elections > 0 || restarted.elections > 0) process.exitCode = 1;
  } finally {
    await host.stop();
    await stopAll();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** One line on first writes against warm ones. */
function describeWrites(what: string, writes: { first: number[]; warm: number[]; elections: number }): string {
  const first = percentile(writes.first, 50);
  const warm = percentile(writes.warm, 50);
  return `${what}, ${writes.first.length} groups: p50 ${round(first)} ms vs ${round(warm)} ms, ratio ${round(first / warm, 2)}; elections: ${writes.elections}`;
}

await main();
