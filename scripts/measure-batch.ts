/**
 * `node scripts/measure-batch.ts [rounds] [size] [wrangler|deno]`: how long a `POST /v1/batch` of
 * `size` puts takes after 6 s idle (past the 5 s the router trusts cached metadata, so every put
 * of the batch waits for one metadata read: "cold") and right after that ("warm"), on `wrangler
 * dev` (a free port, 50 ms ticks as the e2e suite) or a 3-node Deno cluster. Prints each round,
 * the medians and their ratio. To compare two revisions, run it in a worktree of each, one after
 * the other. Measured so on 2026-12-02 with `4 250 wrangler`: a5d29d4 (callers waiting for a
 * metadata read polled on 10 ms timers) 8,180 ms cold and 8,424 ms warm (a batch that slow outlives
 * the cache it filled, so the next one is cold again); 198957c (woken when the read settles) 586
 * and 724 ms.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDenoCluster } from "../test/e2e/deno-cluster.ts";
import { e2eAdminToken, startWrangler } from "../test/e2e/wrangler.ts";

const rounds = Number(process.argv[2] ?? 4);
const size = Number(process.argv[3] ?? 250);
const host = process.argv[4] ?? "wrangler";
const idleMs = 6_000;
const headers = { authorization: `Bearer ${e2eAdminToken}`, "content-type": "application/json" };
const dataDirectory = mkdtempSync(join(tmpdir(), "edgeraft-measure-batch-"));

const system = host === "deno"
  ? await startDenoCluster({ dataDirectory }).then((cluster) => ({ url: cluster.urls[0]!, stop: () => cluster.stop() }))
  : await startWrangler({ persistDir: dataDirectory }).then((wrangler) => ({ url: wrangler.url, stop: () => wrangler.stop() }));

/** Sends one batch of `size` puts; its duration in milliseconds (throws unless every put answered 200). */
async function batch(name: string): Promise<number> {
  const operations = Array.from({ length: size }, (_, i) => ({ op: "put", key: `batch/${name}/${i}`, value: "x".repeat(200) }));
  const began = performance.now();
  const response = await fetch(`${system.url}/v1/batch`, { method: "POST", headers, body: JSON.stringify({ operations }) });
  const body = (await response.json()) as { results?: { status: number }[] };
  const ms = performance.now() - began;
  const failed = (body.results ?? []).filter((result) => result.status !== 200).length;
  if (response.status !== 200 || failed > 0) throw new Error(`batch ${name}: HTTP ${response.status}, ${failed} puts failed`);
  return ms;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

try {
  await batch("setup"); // creates the default group
  const warm: number[] = [];
  const cold: number[] = [];
  for (let round = 0; round < rounds; round++) {
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    cold.push(await batch(`cold-${round}`));
    warm.push(await batch(`warm-${round}`));
    console.log(`round ${round + 1}: cold ${Math.round(cold.at(-1)!)} ms, warm ${Math.round(warm.at(-1)!)} ms`);
  }
  const [coldMs, warmMs] = [median(cold), median(warm)];
  console.log(`${host}, batches of ${size} puts, median of ${rounds}: cold cache ${Math.round(coldMs)} ms, warm ${Math.round(warmMs)} ms, cold / warm ${(coldMs / warmMs).toFixed(2)}`);
} finally {
  await system.stop();
  rmSync(dataDirectory, { recursive: true, force: true });
}
