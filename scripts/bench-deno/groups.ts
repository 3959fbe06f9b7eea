/**
 * The group-count cells of `npm run bench:deno`, each on a fresh 3-node cluster: heartbeat traffic
 * between nodes with 2, 10 and 100 groups that are active but receive no writes (quiescence off,
 * so every leader heartbeats), and 1,000 idle groups (quiescence on): messages per second between
 * nodes and resident memory per idle group (RSS with the groups minus RSS of the fresh node, each
 * read once the node was idle for longer than V8's memory reducer waits).
 */
import { join } from "node:path";
import { memoryReducerDelayMs } from "../../src/hosts/deno/arguments.ts";
import { startDenoCluster, type DenoCluster } from "../../test/e2e/deno-cluster.ts";
import { e2eAdminToken } from "../../test/e2e/wrangler.ts";
import { createTenantGroups, describePairs, measurePairTraffic, nodeCounters, type PairTraffic } from "../../test/deno-cluster/pair-traffic.ts";

/** How the cells report: a line for the console and the results file. */
/**
 * The benchmark's clusters never split a group on their own (as `npm run bench` on wrangler dev):
 * each cell measures the groups it set up. At 64 clients the default group passes the 1,000
 * writes/s split threshold, and a split in the middle of the cells cost 25 to 30% of the writes/s.
 */
export const noAutomaticSplits = { SPLIT_KEYS: "1000000000", SPLIT_BYTES: "1000000000000", SPLIT_WRITES_PER_SECOND: "1000000000" };

export type Note = (line: string) => void;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (pairs: readonly PairTraffic[], pick: (pair: PairTraffic) => number) => pairs.reduce((total, pair) => total + pick(pair), 0);
const busiest = (pairs: readonly PairTraffic[]) => pairs.reduce((most, pair) => (pair.messagesPerSecond > most.messagesPerSecond ? pair : most));

/** Heartbeat traffic per node pair with `counts` tenant groups (cumulative), quiescence off. */
export async function benchHeartbeats(options: { dataDirectory: string; counts: readonly number[]; windowMs: number; note: Note }): Promise<void> {
  const cluster = await startDenoCluster({ dataDirectory: options.dataDirectory, tickMs: 100, quiesce: false, envOf: () => noAutomaticSplits });
  try {
    let created = 0;
    for (const count of options.counts) {
      await createTenantGroups(cluster, { prefix: "beat", first: created, end: count });
      created = count;
      await sleep(2_000); // the creating writes are replicated; only heartbeats remain
      const pairs = await measurePairTraffic(cluster, options.windowMs);
      const top = busiest(pairs);
      options.note(
        `heartbeats, ${count} write-idle groups (+ meta), quiescence off, 100 ms ticks: all pairs ${sum(pairs, (p) => p.framesPerSecond).toFixed(0)} frames/s, ` +
          `${sum(pairs, (p) => p.messagesPerSecond).toFixed(0)} messages/s; busiest pair ${top.from}->${top.to}: ${top.framesPerSecond.toFixed(1)} frames/s ` +
          `(${top.framesPerTick.toFixed(2)} per tick), ${top.messagesPerSecond.toFixed(0)} messages/s, ${(top.bytesPerSecond / 1024).toFixed(1)} KiB/s`,
      );
      console.log(`           ${describePairs(pairs)}`);
    }
  } finally {
    await cluster.stop();
  }
}

/**
 * How long a node must be idle before its RSS is read: V8's memory reducer (arguments.ts
 * nodeV8Flags) gives back the heap that the work before grew, so the reading counts what the
 * replicas hold and not garbage that was still waiting.
 */
const rssSettleMs = memoryReducerDelayMs + 5_000;

/** Idle groups on a fresh cluster: traffic between nodes once they are quiet, and RSS per idle group. */
export async function benchIdleGroups(options: { dataDirectory: string; groups: number; windowMs: number; note: Note }): Promise<void> {
  const cluster = await startDenoCluster({ dataDirectory: options.dataDirectory, tickMs: 100, envOf: () => noAutomaticSplits });
  try {
    await sleep(rssSettleMs);
    const empty = await nodeCounters(cluster); // no group yet, not even the metadata group
    const tenth = Math.round(options.groups / 10);
    const createdAt = performance.now();
    await createTenantGroups(cluster, { prefix: "idle", first: 0, end: tenth });
    const tenthCreatedSeconds = (performance.now() - createdAt) / 1000;
    await sleep(rssSettleMs);
    const atTenth = await nodeCounters(cluster);
    const restAt = performance.now();
    await createTenantGroups(cluster, { prefix: "idle", first: tenth, end: options.groups });
    const createSeconds = tenthCreatedSeconds + (performance.now() - restAt) / 1000;
    const createdAll = performance.now();
    await sleep(5_000); // every group quiesces
    const pairs = await measurePairTraffic(cluster, options.windowMs);
    await sleep(Math.max(0, rssSettleMs - (performance.now() - createdAll)));
    const full = await nodeCounters(cluster);
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
    options.note(`idle: ${options.groups} tenant groups created in ${createSeconds.toFixed(0)} s; replicas per node ${full.map((n) => n.replicas).join(" / ")}; awake ${full.map((n) => n.awake).join(" / ")}`);
    options.note(
      `idle: over ${options.windowMs / 1000} s, all node pairs: ${sum(pairs, (p) => p.messagesPerSecond).toFixed(2)} messages/s, ${sum(pairs, (p) => p.framesPerSecond).toFixed(2)} frames/s; ` +
        `busiest pair ${busiest(pairs).from}->${busiest(pairs).to}: ${busiest(pairs).messagesPerSecond.toFixed(2)} messages/s (bar <= 1)`,
    );
    options.note(`idle: RSS per node, fresh / ${tenth} groups / ${options.groups} groups: ${full.map((n, i) => `${(empty[i]!.rssBytes / 2 ** 20).toFixed(0)} / ${(atTenth[i]!.rssBytes / 2 ** 20).toFixed(0)} / ${(n.rssBytes / 2 ** 20).toFixed(0)} MiB`).join("; ")}`);
    options.note(
      `idle: RSS per idle group (one replica of each group per node), (RSS with ${options.groups} - fresh) / ${options.groups}: ${full.map((n, i) => kib((n.rssBytes - empty[i]!.rssBytes) / options.groups)).join(" / ")}; ` +
        `marginal, (RSS with ${options.groups} - with ${tenth}) / ${options.groups - tenth}: ${full.map((n, i) => kib((n.rssBytes - atTenth[i]!.rssBytes) / (options.groups - tenth))).join(" / ")}`,
    );
  } finally {
    await cluster.stop();
  }
}

/**
 * The Multi-Raft cells' groups: `count` prefix groups `mr0/`, `mr1/`, ..., created through node 1,
 * then a wait until every node's routing cache has seen them. `prefixGroupKey` spreads a load over them.
 */
export async function createPrefixGroups(cluster: DenoCluster, count: number): Promise<void> {
  for (let group = 0; group < count; group++) {
    const created = await fetch(`${cluster.urls[0]}/v1/groups`, { method: "POST", body: JSON.stringify({ name: `mr${group}`, prefix: `mr${group}/` }), headers: { authorization: `Bearer ${e2eAdminToken}`, "content-type": "application/json" } });
    if (created.status !== 201) throw new Error(`creating group mr${group}: ${created.status} ${await created.text()}`);
  }
  await sleep(5_500); // every node's routing cache sees the new groups
}

/** The key that client `client`'s `n`th operation uses in the Multi-Raft cells: over `groups` prefix groups, 1,000 keys each. */
export const prefixGroupKey = (groups: number, client: number, n: number) => `mr${(client + n) % groups}/${(client * 7919 + n) % 1_000}`;

/** The data directory of a cell under the run's work directory. */
export const cellDirectory = (work: string, name: string) => join(work, name);
