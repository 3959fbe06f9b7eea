/**
 * A CPU profile of every node of a 3-node Deno cluster under the load of `npm run bench:deno`
 * (PUTs of 100-byte values spread over the three nodes, or GETs with `--op=get`, `get-lease` or
 * `get-stale`), taken through V8's inspector: per node, where the main thread's time goes, by
 * function (self and total time) and by file. The inspector itself costs time (Deno's network
 * instrumentation, op_inspector_emit_protocol_event): compare shares, not absolute figures.
 * `--perf` records the three processes with Linux perf instead (CPU time of every thread).
 *
 *   npm run profile:deno -- [--clients=64] [--seconds=6] [--groups=1] [--top=30] [--op=put] [--perf]
 *
 * `--groups=8` spreads the writes over 8 prefix groups (the Multi-Raft cell). The deno binary is
 * stripped, so native time shows as "(program)" and the garbage collector as "(garbage collector)".
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startDenoCluster } from "../test/e2e/deno-cluster.ts";
import { e2eAdminToken } from "../test/e2e/wrangler.ts";
import { httpCall, runLoad, valueOf } from "./bench-deno/load.ts";
import { createPrefixGroups, noAutomaticSplits, prefixGroupKey } from "./bench-deno/groups.ts";

const { values } = parseArgs({ options: { clients: { type: "string", default: "64" }, seconds: { type: "string", default: "6" }, groups: { type: "string", default: "1" }, top: { type: "string", default: "30" }, op: { type: "string", default: "put" }, perf: { type: "boolean", default: false } } });
const perf = values.perf;
/** put, or get at a consistency: get (linearizable), get-lease, get-stale. */
const op = values.op;
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const groups = Number(values.groups);
const top = Number(values.top);
const headers = { authorization: `Bearer ${e2eAdminToken}` };
const inspectBase = 9330;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A minimal Chrome DevTools Protocol session over the inspector's WebSocket. */
async function inspector(port: number): Promise<{ call(method: string, params?: object): Promise<any>; close(): void }> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let next = 0;
  const pending = new Map<number, (result: unknown) => void>();
  socket.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  };
  return {
    call: (method, params = {}) =>
      new Promise((resolve) => {
        const id = ++next;
        pending.set(id, resolve);
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}

/** Self time per function and per file, and total (inclusive) time per function, in ms, from a sampled profile. */
function summarize(profile: Profile): { total: number; byFunction: [string, number][]; byFile: [string, number][]; inclusive: [string, number][] } {
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const nameOf = (node: ProfileNode) => {
    const frame = node.callFrame;
    const file = frame.url.replace(/^.*\/(src|node_modules|ext|deno)\//, "$1/") || frame.functionName;
    return { file, name: `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}` };
  };
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { file, name } = nameOf(node);
    byFunction.set(name, (byFunction.get(name) ?? 0) + us / 1000);
    byFile.set(file, (byFile.get(file) ?? 0) + us / 1000);
    if (node.callFrame.functionName === "(idle)") continue;
    total += us / 1000;
    // Every function on the stack gets the sample once (recursion counted once).
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parentOf.get(id)) {
      const { name: onStack } = nameOf(byId.get(id)!);
      if (seen.has(onStack)) continue;
      seen.add(onStack);
      inclusive.set(onStack, (inclusive.get(onStack) ?? 0) + us / 1000);
    }
  }
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return { total, byFunction: sorted(byFunction), byFile: sorted(byFile), inclusive: sorted(inclusive) };
}

const work = mkdtempSync(join(tmpdir(), "edgeraft-profile-"));
const cluster = await startDenoCluster({ dataDirectory: join(work, "cluster"), tickMs: 100, envOf: () => noAutomaticSplits, denoFlagsOf: (id) => (perf ? ["--v8-flags=--perf-basic-prof"] : [`--inspect=127.0.0.1:${inspectBase + id}`]) });
try {
  if (groups > 1) await createPrefixGroups(cluster, groups);
  const path = (client: number, n: number) => (groups > 1 ? `/v1/kv/${prefixGroupKey(groups, client, n)}` : `/v1/kv/k${(client * 7919 + n) % 1000}`);
  const consistency = op.startsWith("get-") ? `?consistency=${op.slice(4)}` : "";
  const put = async (client: number, n: number) => {
    const url = `${cluster.urls[client % 3]}${path(client, n)}`;
    const { status } = op === "put" ? await httpCall(url, { method: "PUT", body: valueOf(100, client, n), headers }) : await httpCall(`${url}${consistency}`, { headers });
    return status === 200 || (op !== "put" && status === 404);
  };
  if (perf) {
    // perf's own view: CPU time (not wall time) of every thread of every process, the kernel's included.
    const load = runLoad({ concurrency: clients, durationMs: seconds * 1000, warmupMs: 1000, operation: put });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const pids = cluster.pids().join(",");
    const recorder = spawn("perf", ["record", "-F", "997", "-g", "-p", pids, "-o", "perf.data", "--", "sleep", String(seconds - 1)], { stdio: "inherit" });
    const cell = await load;
    await new Promise((resolve) => recorder.once("exit", resolve));
    console.log(`${cell.perSecond.toFixed(0)} writes/s at ${clients} clients, ${groups} group(s); perf.data written (pids ${pids}, JIT maps in /tmp/perf-<pid>.map): perf report --no-children --sort dso,sym`);
  } else {
  const sessions = await Promise.all([1, 2, 3].map((id) => inspector(inspectBase + id)));
  for (const session of sessions) {
    await session.call("Profiler.enable");
    await session.call("Profiler.setSamplingInterval", { interval: 200 });
  }
  const load = runLoad({ concurrency: clients, durationMs: seconds * 1000, warmupMs: 1000, operation: put });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await Promise.all(sessions.map((session) => session.call("Profiler.start")));
  const cell = await load;
  const profiles = await Promise.all(sessions.map(async (session) => ((await session.call("Profiler.stop")) as { profile: Profile }).profile));
  for (const session of sessions) session.close();
  console.log(`${cell.perSecond.toFixed(0)} ${op} operations/s at ${clients} clients, ${groups} group(s); profiled ${seconds} s ("per write" below: per operation)`);
  profiles.forEach((profile, i) => {
    const summary = summarize(profile);
    const perWrite = (ms: number) => ((ms / cell.operations) * 1000).toFixed(1);
    console.log(`\nnode ${i + 1}: ${summary.total.toFixed(0)} ms busy on the main thread (${perWrite(summary.total)} us per write)`);
    console.log("  by file (self ms, us per write):");
    for (const [file, ms] of summary.byFile.slice(0, 15)) console.log(`    ${ms.toFixed(0).padStart(6)} ${perWrite(ms).padStart(6)}  ${file}`);
    console.log("  by function, self time:");
    for (const [name, ms] of summary.byFunction.slice(0, top)) console.log(`    ${ms.toFixed(0).padStart(6)} ${perWrite(ms).padStart(6)}  ${name}`);
    console.log("  by function, total time (with what it calls):");
    for (const [name, ms] of summary.inclusive.filter(([name]) => name.includes("src/") || name.includes("deno/")).slice(0, top * 2)) console.log(`    ${ms.toFixed(0).padStart(6)} ${perWrite(ms).padStart(6)}  ${name}`);
  });
  }
} finally {
  await cluster.stop();
  rmSync(work, { recursive: true, force: true });
}
