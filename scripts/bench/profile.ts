/**
 * `npm run bench -- --profile`: where the runtime spends its time. Starts Miniflare with the V8
 * inspector, runs a few load cells inside the runtime with the sampling profiler on, and for each
 * writes bench-results/profile-<cell>.cpuprofile (open it in Chrome DevTools) and prints the
 * functions with the most samples, self and inclusive, next to workerd's CPU use from /proc: a
 * runtime that is far from 100% CPU while slow is waiting (on storage flushes), not computing.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createScenarioGroups, runInRuntime, type RuntimeLoad } from "./api.ts";
import { bundleWorker } from "./bundle.ts";
import { startMiniflare } from "./miniflare-host.ts";
import { scenarioOf, prefixesOf, scenarios } from "./scenarios.ts";
import type { Operation, ScenarioId } from "./results.ts";
import { freePort } from "./wrangler-host.ts";

/** A V8 CPU profile, the parts read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] }[];
  samples: number[];
}

/** The cells profiled: the two sides of the write bar and the read bar. */
const profiledCells: { scenario: ScenarioId; operation: Operation; concurrency: number }[] = [
  { scenario: "a", operation: "write", concurrency: 64 },
  { scenario: "b", operation: "write", concurrency: 64 },
  { scenario: "b", operation: "read", concurrency: 64 },
];

/** Profiles each cell for `durationMs` and prints the summary. */
export async function runProfile(durationMs: number, log: (line: string) => void): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), "edgeraft-profile-"));
  const inspectorPort = await freePort();
  const bundle = await bundleWorker(join(directory, "bundle"));
  const host = await startMiniflare({ bundle, stateDirectory: join(directory, "state"), adminToken: "profile-token", inspectorPort });
  try {
    const endpoint = { url: host.url, token: "profile-token" };
    for (const scenario of scenarios.slice(0, 2)) await createScenarioGroups(endpoint, scenario);
    const inspector = await connectInspector(inspectorPort);
    const sourceMap = new SourceMap(JSON.parse(readFileSync(`${bundle.scriptPath}.map`, "utf8")));
    mkdirSync("bench-results", { recursive: true });
    for (const cell of profiledCells) {
      const load: RuntimeLoad = { operation: cell.operation, concurrency: cell.concurrency, prefixes: prefixesOf(scenarioOf(cell.scenario)), keysPerPrefix: 32, valueBytes: 100, operationsMax: 200_000, durationMsMax: durationMs };
      await runInRuntime(endpoint, { ...load, durationMsMax: Math.min(durationMs, 1000) }); // warm
      await inspector.send("Profiler.enable");
      await inspector.send("Profiler.start");
      const cpuBefore = workerdCpuMs();
      const beganMs = performance.now();
      const outcome = await runInRuntime(endpoint, load);
      const wallMs = performance.now() - beganMs;
      const cpuMs = workerdCpuMs() - cpuBefore;
      const profile = (await inspector.send("Profiler.stop")).profile as CpuProfile;
      const name = `profile-${cell.scenario}-${cell.operation}-c${cell.concurrency}`;
      writeFileSync(join("bench-results", `${name}.cpuprofile`), JSON.stringify(profile));
      log(`\n${name}: ${Math.round((outcome.completed * 1000) / outcome.elapsedMs)} ops/s, workerd CPU ${Math.round((cpuMs / wallMs) * 100)}% of one core, ${(cpuMs / Math.max(1, outcome.completed)).toFixed(2)} ms CPU per operation`);
      log(summarize(profile, sourceMap));
    }
    inspector.close();
  } finally {
    await host.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Top functions by self and by inclusive samples, as percentages of all samples; bundle positions mapped to source files. */
export function summarize(profile: CpuProfile, sourceMap: SourceMap, top = 14): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const name = (id: number) => {
    const frame = byId.get(id)!.callFrame;
    const functionName = frame.functionName || "(anonymous)";
    if (frame.url === "") return functionName;
    const entry = sourceMap.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string; originalLine?: number };
    if (entry.originalSource === undefined || entry.originalLine === undefined) return `${functionName} (bundle line ${frame.lineNumber + 1})`;
    const source = entry.originalSource.replace(/^.*?\/(src|scripts|node_modules)\//, "$1/");
    return `${functionName} (${source}:${entry.originalLine + 1})`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const sample of profile.samples) {
    self.set(name(sample), (self.get(name(sample)) ?? 0) + 1);
    const seen = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = parentOf.get(id)) {
      const key = name(id);
      if (!seen.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + 1);
      seen.add(key);
    }
  }
  const total = Math.max(1, profile.samples.length);
  const lines = (title: string, counts: Map<string, number>) => [
    `  ${title}:`,
    ...[...counts].filter(([key]) => key !== "(root)").sort((left, right) => right[1] - left[1]).slice(0, top)
      .map(([key, count]) => `    ${((count / total) * 100).toFixed(1).padStart(5)}%  ${key}`),
  ];
  return [...lines("self", self), ...lines("inclusive", inclusive)].join("\n");
}

/** CPU time (user + system) of every workerd process that is a child of this one, in ms. */
function workerdCpuMs(): number {
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "workerd") continue;
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      if (fields[1] !== String(process.pid)) continue;
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process went away
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
async function connectInspector(port: number): Promise<{ send(method: string): Promise<Record<string, unknown>>; close(): void }> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { title: string; webSocketDebuggerUrl: string }[];
  const target = targets.find((candidate) => candidate.title.includes("core:user")) ?? targets[0];
  if (target === undefined) throw new Error("the inspector lists no target");
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  const pending = new Map<number, (result: Record<string, unknown>) => void>();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: Record<string, unknown> };
    if (message.id !== undefined) pending.get(message.id)?.(message.result ?? {});
    if (message.id !== undefined) pending.delete(message.id);
  });
  let nextId = 0;
  return {
    send: (method) => new Promise((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => reject(new Error(`${method}: no answer from the inspector`)), 60_000);
      pending.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      socket.send(JSON.stringify({ id, method }));
    }),
    close: () => socket.close(),
  };
}
