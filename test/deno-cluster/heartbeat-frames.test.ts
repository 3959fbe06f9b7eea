/**
 * Proves, on a real 3-process Deno cluster whose groups never go quiet (`--quiesce off`, so every
 * group heartbeats), that the frames sent from one node to another per tick of its ticker do not
 * grow with the number of groups: with 2 tenant groups (and the metadata group) and then with 32,
 * each ordered node pair carries at most about two frames per tick (the ticker's
 * heartbeats, and the answers to the frame just received), while the heartbeats inside them grow
 * with the groups (so the frames really carry every group's heartbeats); and the records on the
 * wire per tick (messages in batches plus coalesced heartbeat records) stay bounded too, because
 * every group's heartbeats in a frame travel as one coalesced record.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDenoCluster, type DenoCluster } from "../e2e/deno-cluster.ts";
import { createTenantGroups, describePairs, measurePairTraffic, nodeCounters, type PairTraffic } from "./pair-traffic.ts";

/** Tenant groups of the first and of the second measurement. */
const fewGroups = 2;
const manyGroups = 32;
/** How long each measurement window lasts. */
const windowMs = 4_000;

let cluster: DenoCluster;
let dataDirectory: string;

beforeAll(async () => {
  dataDirectory = mkdtempSync(join(tmpdir(), "edgeraft-deno-heartbeats-"));
  cluster = await startDenoCluster({ dataDirectory, tickMs: 50, quiesce: false });
});

afterAll(async () => {
  await cluster?.stop();
  rmSync(dataDirectory, { recursive: true, force: true });
});

const total = (pairs: readonly PairTraffic[], pick: (pair: PairTraffic) => number) => pairs.reduce((sum, pair) => sum + pick(pair), 0);
const mostFramesPerTick = (pairs: readonly PairTraffic[]) => Math.max(...pairs.map((pair) => pair.framesPerTick));
const mostRecordsPerTick = (pairs: readonly PairTraffic[]) => Math.max(...pairs.map((pair) => pair.recordsPerTick));

describe("heartbeats between two Deno nodes", () => {
  it("travel in a number of frames per tick per node pair that does not grow with the groups", async () => {
    await createTenantGroups(cluster, { prefix: "beat", first: 0, end: fewGroups });
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // the writes are replicated; only heartbeats remain
    const few = await measurePairTraffic(cluster, windowMs);
    console.log(`${fewGroups} tenant groups: ${describePairs(few)}`);

    await createTenantGroups(cluster, { prefix: "beat", first: fewGroups, end: manyGroups });
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // the writes are replicated; only heartbeats remain
    const awake = (await nodeCounters(cluster)).map((node) => node.awake);
    expect(awake.every((count) => count >= manyGroups), `awake replicas per node: ${awake.join(" / ")}`).toBe(true); // nothing went quiet
    const many = await measurePairTraffic(cluster, windowMs);
    console.log(`${manyGroups} tenant groups: ${describePairs(many)}`);

    // The heartbeats of every group are in the frames: 16 times the groups, many times the heartbeats.
    expect(total(many, (pair) => pair.heartbeatsPerSecond)).toBeGreaterThan(5 * total(few, (pair) => pair.heartbeatsPerSecond));
    // ...but the frames per tick stay bounded: one for the ticker's sends and one answering each
    // frame received (2 here; slack for a starved ticker), whatever the number of groups, so
    // each frame carries several groups' heartbeats (one frame per message would be about 10 per tick here).
    expect(mostFramesPerTick(many)).toBeLessThanOrEqual(3);
    expect(mostFramesPerTick(many)).toBeLessThan(mostFramesPerTick(few) + 1.5);
    for (const pair of many) expect(pair.messagesPerSecond / pair.framesPerSecond, `${pair.from}->${pair.to}`).toBeGreaterThanOrEqual(3);
    // The records on the wire per tick do not grow with the groups either: all heartbeats of a
    // frame are one coalesced record (without it, about 10 records per tick here, as messages).
    expect(mostRecordsPerTick(many)).toBeLessThanOrEqual(3);
    expect(mostRecordsPerTick(many)).toBeLessThan(mostRecordsPerTick(few) + 1.5);
    for (const pair of many) {
      expect(pair.heartbeatRecordsPerSecond, `${pair.from}->${pair.to}`).toBeLessThanOrEqual(pair.framesPerSecond);
      expect(pair.heartbeatsPerSecond / pair.heartbeatRecordsPerSecond, `heartbeats per record ${pair.from}->${pair.to}`).toBeGreaterThanOrEqual(3);
    }
  });
});
