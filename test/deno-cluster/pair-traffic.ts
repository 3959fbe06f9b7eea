/**
 * Measures the Raft traffic between each ordered pair of nodes of a running Deno cluster (frames,
 * records on the wire, messages, heartbeats and bytes per second, and frames and records per run
 * of the sender's ticker) from the
 * nodes' /internal/node counters, and creates tenant groups to measure it with; shared by the
 * heartbeat test and `npm run bench:deno`.
 */
import { testClusterSecret, type DenoCluster } from "../e2e/deno-cluster.ts";
import { e2eAdminToken } from "../e2e/wrangler.ts";

/** The counters of one node that the measurement reads. */
interface NodeCounters {
  node: number;
  replicas: number;
  awake: number;
  tickRuns: number;
  rssBytes: number;
  transport: { peers: Record<string, { framesSent: number; messagesSent: number; heartbeatsSent: number; heartbeatRecordsSent: number; recordsSent: number; bytesSent: number }> };
}

/** Traffic from one node to another over a measured window. */
export interface PairTraffic {
  from: number;
  to: number;
  framesPerSecond: number;
  messagesPerSecond: number;
  heartbeatsPerSecond: number;
  /** Coalesced heartbeat records per second (each carries the heartbeats of many groups). */
  heartbeatRecordsPerSecond: number;
  bytesPerSecond: number;
  /** Frames per run of the sender's ticker: the figure that must not grow with the number of groups. */
  framesPerTick: number;
  /** Records on the wire (messages in batches, plus coalesced heartbeat records) per run of the sender's ticker. */
  recordsPerTick: number;
}

/** Reads every node's counters. */
export async function nodeCounters(cluster: DenoCluster): Promise<NodeCounters[]> {
  const authorization = `Bearer ${testClusterSecret}`;
  return Promise.all(cluster.urls.map(async (url) => (await (await fetch(`${url}/internal/node`, { headers: { authorization } })).json()) as NodeCounters));
}

/** Measures the traffic of every ordered node pair over `windowMs`. */
export async function measurePairTraffic(cluster: DenoCluster, windowMs: number): Promise<PairTraffic[]> {
  const before = await nodeCounters(cluster);
  const startedMs = performance.now();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const after = await nodeCounters(cluster);
  const seconds = (performance.now() - startedMs) / 1000;
  const pairs: PairTraffic[] = [];
  after.forEach((node, i) => {
    const ticks = node.tickRuns - before[i]!.tickRuns;
    for (const [to, sent] of Object.entries(node.transport.peers)) {
      const earlier = before[i]!.transport.peers[to]!;
      const frames = sent.framesSent - earlier.framesSent;
      pairs.push({
        from: node.node,
        to: Number(to),
        framesPerSecond: frames / seconds,
        messagesPerSecond: (sent.messagesSent - earlier.messagesSent) / seconds,
        heartbeatsPerSecond: (sent.heartbeatsSent - earlier.heartbeatsSent) / seconds,
        heartbeatRecordsPerSecond: (sent.heartbeatRecordsSent - earlier.heartbeatRecordsSent) / seconds,
        bytesPerSecond: (sent.bytesSent - earlier.bytesSent) / seconds,
        framesPerTick: frames / Math.max(1, ticks),
        recordsPerTick: (sent.recordsSent - earlier.recordsSent) / Math.max(1, ticks),
      });
    }
  });
  return pairs;
}

/** Creates tenant groups `first..end-1` (one write each, the group made on first use), 8 at a time. */
export async function createTenantGroups(cluster: DenoCluster, options: { prefix: string; first: number; end: number }): Promise<void> {
  let next = options.first;
  const headers = { authorization: `Bearer ${e2eAdminToken}` };
  const creator = async () => {
    for (let tenant = next++; tenant < options.end; tenant = next++) {
      const url = `${cluster.urls[tenant % cluster.urls.length]}/v1/tenants/${options.prefix}${String(tenant).padStart(4, "0")}/kv/k`;
      let status = 0;
      for (let attempt = 0; attempt < 5 && status !== 200; attempt++) {
        status = await fetch(url, { method: "PUT", body: "v", headers }).then(async (response) => (await response.arrayBuffer(), response.status), () => 0);
      }
      if (status !== 200) throw new Error(`tenant group ${options.prefix}${tenant} was not created (last status ${status})`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, creator));
}

/** One line per ordered pair, for logs and the benchmark. */
export function describePairs(pairs: readonly PairTraffic[]): string {
  return pairs
    .map((p) => `${p.from}->${p.to}: ${p.framesPerSecond.toFixed(1)} frames/s (${p.framesPerTick.toFixed(2)}/tick), ${p.recordsPerTick.toFixed(2)} records/tick, ${p.messagesPerSecond.toFixed(0)} messages/s (${p.heartbeatsPerSecond.toFixed(0)} heartbeats in ${p.heartbeatRecordsPerSecond.toFixed(1)} records), ${(p.bytesPerSecond / 1024).toFixed(1)} KiB/s`)
    .join("; ");
}
