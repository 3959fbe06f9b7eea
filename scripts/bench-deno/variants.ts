/**
 * `npm run bench:deno-variants`: two or more 3-node Deno clusters up at once, each a variant (extra
 * flags for the deno binary, and optionally another checkout of the project, for code against
 * code), their 64-client write cells taken in turn, round after round, the order reversed every
 * other round: so the machine's drift, which on these machines moves figures by 2 to 4x from hour
 * to hour, weighs on every variant alike. Each cell prints writes/s, the servers' CPU per write
 * and what the hypervisor stole; the end, each variant's medians. `--pause-ms` idles every cluster
 * that long before each of its cells (a cluster also idles while the others run theirs).
 *
 *   npm run bench:deno-variants -- --variant=shipped --variant='reducer-8s=--v8-flags=--memory-reducer-delay-ms=8000' \
 *     [--variant='old@/path/to/other/checkout'] [--rounds=6] [--seconds=5] [--pause-ms=0] [--warmup-ms=8000] [--groups=1]
 *
 * `--groups=N` (N > 1) creates N prefix groups in every cluster and spreads the writes over them
 * (the Multi-Raft cell of `npm run bench:deno`); by default every write goes to the default group.
 *
 * A variant is `name`, `name=flag flag ...` or `name@checkout=flag ...`; a checkout is a directory
 * holding the project (with node_modules), from which its nodes start. A variant's flags come
 * after the node's own (arguments.ts nodeV8Flags), so they win: the example's second variant runs
 * with V8's default memory reducer delay. The command line is this checkout's for every variant
 * (its arguments and V8 flags): a checkout from before a change to them runs with today's.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startDenoCluster, type DenoCluster } from "../../test/e2e/deno-cluster.ts";
import { e2eAdminToken } from "../../test/e2e/wrangler.ts";
import { httpCall, medianOf, runLoad, valueOf } from "./load.ts";
import { createPrefixGroups, noAutomaticSplits, prefixGroupKey } from "./groups.ts";
import { machineCpuMs, processesCpuMs } from "./process-cpu.ts";

const { values } = parseArgs({ options: { variant: { type: "string", multiple: true, default: [] }, rounds: { type: "string", default: "6" }, seconds: { type: "string", default: "5" }, "pause-ms": { type: "string", default: "0" }, "warmup-ms": { type: "string", default: "8000" }, groups: { type: "string", default: "1" } } });
const groups = Number(values.groups);
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const pauseMs = Number(values["pause-ms"]);
const warmupMs = Number(values["warmup-ms"]);
const variants = values.variant.map((text) => {
  const match = /^([\w.-]+)(?:@([^=]+))?(?:=(.*))?$/.exec(text);
  if (match === null) throw new Error(`--variant=${text}: expected name, name=flags or name@checkout=flags`);
  return { name: match[1]!, checkout: match[2] ?? process.cwd(), flags: match[3]?.split(" ").filter((flag) => flag !== "") ?? [] };
});
if (variants.length < 2 || new Set(variants.map((variant) => variant.name)).size !== variants.length) throw new Error("give two or more --variant, with different names");

const headers = { authorization: `Bearer ${e2eAdminToken}` };
const keysCount = 1_000;
const keyOf = (client: number, n: number) => (groups > 1 ? prefixGroupKey(groups, client, n) : `bench/${(client * 7919 + n) % keysCount}`);
const put = async (cluster: DenoCluster, client: number, n: number) => {
  return (await httpCall(`${cluster.urls[client % 3]}/v1/kv/${keyOf(client, n)}`, { method: "PUT", body: valueOf(100, client, n), headers })).status === 200;
};

const work = mkdtempSync(join(tmpdir(), "edgeraft-bench-variants-"));
const home = process.cwd();
const clusters: { name: string; cluster: DenoCluster; cells: { perSecond: number; cpuUs: number }[] }[] = [];
try {
  for (const variant of variants) {
    process.chdir(variant.checkout); // the nodes start from the variant's checkout
    const cluster = await startDenoCluster({ dataDirectory: join(work, variant.name), tickMs: 100, envOf: () => noAutomaticSplits, denoFlagsOf: () => variant.flags });
    clusters.push({ name: variant.name, cluster, cells: [] });
    process.chdir(home);
    if (groups > 1) await createPrefixGroups(cluster, groups);
  }
  // Warm every cluster alike before measuring (a fresh node runs its first seconds in V8's lower tiers).
  for (const { cluster } of clusters) await runLoad({ concurrency: 64, durationMs: warmupMs, warmupMs: 0, operation: (client, n) => put(cluster, client, n) });
  for (let round = 1; round <= rounds; round++) {
    for (const entry of round % 2 === 1 ? clusters : [...clusters].reverse()) {
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      const cpuBefore = processesCpuMs(entry.cluster.pids());
      const machineBefore = machineCpuMs();
      const startedMs = performance.now();
      const cell = await runLoad({ concurrency: 64, durationMs: seconds * 1000, warmupMs: 500, operation: (client, n) => put(entry.cluster, client, n) });
      const elapsedSeconds = (performance.now() - startedMs) / 1000;
      const cpuMs = (processesCpuMs(entry.cluster.pids()) ?? 0) - (cpuBefore ?? 0);
      const machineAfter = machineCpuMs();
      const stolen = machineBefore === undefined || machineAfter === undefined ? 0 : (machineAfter.stealMs - machineBefore.stealMs) / elapsedSeconds / 10;
      const cpuUs = (cpuMs * 1000) / (cell.perSecond * elapsedSeconds);
      entry.cells.push({ perSecond: cell.perSecond, cpuUs });
      console.log(`round ${round} ${entry.name.padEnd(14)} ${cell.perSecond.toFixed(0).padStart(5)} writes/s  servers ${cpuUs.toFixed(0)} us CPU per write  errors ${cell.errors}  stolen ${stolen.toFixed(0)}% of a core`);
    }
  }
  for (const { name, cells } of clusters) console.log(`${name.padEnd(14)} median ${medianOf(cells.map((cell) => cell.perSecond)).toFixed(0)} writes/s, ${medianOf(cells.map((cell) => cell.cpuUs)).toFixed(0)} us of server CPU per write`);
  if (clusters.some(({ cells }) => cells.some((cell) => cell.perSecond === 0))) {
    console.error("a cell completed no write: that variant's cluster does not serve");
    process.exitCode = 1;
  }
} finally {
  process.chdir(home);
  for (const { cluster } of clusters) await cluster.stop();
  rmSync(work, { recursive: true, force: true });
}
