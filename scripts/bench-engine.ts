/**
 * Engine benchmarks (no I/O, memory storage, one process):
 *  1. one 3-replica group: entries per second committed and applied on every replica (the final
 *     heartbeat round that carries the last commit index to the followers is timed), 16 B and 1 KiB;
 *  2. 10,000 idle groups: memory per group and messages per second per group, quiescence on vs off.
 * Usage: npm run bench:engine [-- --quick] [-- --json FILE]
 */
import { writeFileSync } from "node:fs";
import { createRng } from "../src/shared/rng.ts";
import { RawNode } from "../src/raft/raw-node.ts";
import { MemoryStorage, emptyConfState } from "../src/raft/storage.ts";
import { drive, type DriverPorts } from "../src/raft/driver.ts";
import type { Message } from "../src/raft/types.ts";

const quick = process.argv.includes("--quick");
const jsonPath = process.argv[process.argv.indexOf("--json") + 1];
const ticksPerSecond = 10; // a 100 ms tick, the hosts' default

interface Replica {
  node: RawNode;
  ports: DriverPorts;
  applied: number;
}

/** One group of `size` replicas with an in-process network (a plain array). */
function group(size: number, seed: number, quiesce: boolean, outbox: Message[]): Replica[] {
  const voters = Array.from({ length: size }, (_, i) => i + 1);
  return voters.map((id) => {
    const storage = MemoryStorage.bootstrap({ ...emptyConfState(), voters });
    const node = new RawNode({ id, electionTicks: 10, heartbeatTicks: 1, rng: createRng(seed * 31 + id), quiesce }, storage);
    const replica: Replica = { node, applied: 0, ports: undefined as unknown as DriverPorts };
    replica.ports = {
      store: storage,
      send: (messages) => {
        for (const m of messages) outbox.push(m);
      },
      apply: () => void replica.applied++,
      restore: () => {},
      takeSnapshot: () => new Uint8Array(),
    };
    return replica;
  });
}

function pump(replicas: Replica[], outbox: Message[]): void {
  const options = { snapshotEntries: 100_000 };
  for (const r of replicas) drive(r.node, r.ports, options);
  while (outbox.length > 0) {
    const batch = outbox.splice(0, outbox.length);
    for (const m of batch) replicas[m.to - 1]!.node.step(m);
    for (const r of replicas) drive(r.node, r.ports, options);
  }
}

function throughput(payloadBytes: number, entries: number, batch: number): number {
  const outbox: Message[] = [];
  const replicas = group(3, 1, false, outbox);
  pump(replicas, outbox);
  replicas[0]!.node.campaign();
  pump(replicas, outbox);
  const payload = new Uint8Array(payloadBytes).fill(7);
  const target = appliedEverywhere(replicas) + entries; // the new leader's empty entry is applied already
  const start = performance.now();
  let proposed = 0;
  while (proposed < entries) {
    for (let i = 0; i < batch; i++) replicas[0]!.node.propose(payload);
    proposed += batch;
    pump(replicas, outbox);
  }
  // Followers learn the commit index from the next append or heartbeat, so the last batch is
  // committed on the leader but not yet known to them: heartbeat rounds until every replica has
  // applied everything, counted in the time (committed and applied everywhere is the figure).
  let heartbeatRounds = 0;
  while (appliedEverywhere(replicas) < target && heartbeatRounds < heartbeatRoundsMax) {
    replicas[0]!.node.tick(); // heartbeatTicks is 1: one leader tick is one heartbeat round
    pump(replicas, outbox);
    heartbeatRounds++;
  }
  const seconds = (performance.now() - start) / 1000;
  const applied = appliedEverywhere(replicas) - (target - entries);
  if (applied < entries) throw new Error(`only ${applied} of ${entries} applied on every replica after ${heartbeatRounds} heartbeat rounds`);
  return entries / seconds;
}

/** Heartbeat rounds after the last proposal before the benchmark gives up (one is enough today). */
const heartbeatRoundsMax = 3;

function appliedEverywhere(replicas: Replica[]): number {
  return Math.min(...replicas.map((r) => r.applied));
}

function idleGroups(count: number, quiesce: boolean, ticks: number): { messagesPerGroupSecond: number; bytesPerGroup: number } {
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const outbox: Message[] = [];
  const groups: Replica[][] = [];
  for (let g = 0; g < count; g++) {
    const replicas = group(3, g + 1, quiesce, outbox);
    pump(replicas, outbox);
    replicas[0]!.node.campaign();
    pump(replicas, outbox);
    groups.push(replicas);
  }
  for (let t = 0; t < 20; t++) for (const replicas of groups) tickGroup(replicas, outbox); // settle
  globalThis.gc?.();
  const bytesPerGroup = (process.memoryUsage().heapUsed - before) / count;
  let messages = 0;
  for (let t = 0; t < ticks; t++) {
    for (const replicas of groups) messages += tickGroup(replicas, outbox);
  }
  return { messagesPerGroupSecond: (messages / count / ticks) * ticksPerSecond, bytesPerGroup };
}

function tickGroup(replicas: Replica[], outbox: Message[]): number {
  for (const r of replicas) r.node.tick();
  let sent = 0;
  for (const r of replicas) drive(r.node, r.ports, { snapshotEntries: 100_000 });
  while (outbox.length > 0) {
    const batch = outbox.splice(0, outbox.length);
    sent += batch.length;
    for (const m of batch) replicas[m.to - 1]!.node.step(m);
    for (const r of replicas) drive(r.node, r.ports, { snapshotEntries: 100_000 });
  }
  return sent;
}

const entries = quick ? 200_000 : 2_000_000;
throughput(16, 100_000, 1024); // warm up the JIT
const small = throughput(16, entries, 4096);
const large = throughput(1024, entries / 4, 1024);
const groups = quick ? 1_000 : 10_000;
const quiet = idleGroups(groups, true, 50);
const loud = idleGroups(groups, false, 50);

const results = {
  threeReplicaEntriesPerSecond16B: Math.round(small),
  threeReplicaEntriesPerSecond1KiB: Math.round(large),
  threeReplicaMiBPerSecond1KiB: Math.round((large * 1024) / 2 ** 20),
  idleGroups: groups,
  idleMessagesPerGroupSecondQuiesced: quiet.messagesPerGroupSecond,
  idleMessagesPerGroupSecondNotQuiesced: loud.messagesPerGroupSecond,
  idleBytesPerGroupQuiesced: Math.round(quiet.bytesPerGroup),
};
console.log("edgeraft engine benchmark (one process, memory storage, 3 replicas per group)");
console.log(`  16-byte entries committed and applied on all replicas: ${results.threeReplicaEntriesPerSecond16B.toLocaleString("en-US")} /s`);
console.log(`  1 KiB entries committed and applied on all replicas:   ${results.threeReplicaEntriesPerSecond1KiB.toLocaleString("en-US")} /s (${results.threeReplicaMiBPerSecond1KiB} MiB/s)`);
console.log(`  ${groups.toLocaleString("en-US")} idle groups, messages per group per second (tick = 100 ms):`);
console.log(`    quiescence on:  ${quiet.messagesPerGroupSecond}`);
console.log(`    quiescence off: ${loud.messagesPerGroupSecond}`);
console.log(`  heap per idle 3-replica group (all replicas in one process): ${(quiet.bytesPerGroup / 1024).toFixed(1)} KiB`);
if (process.argv.includes("--json") && jsonPath !== undefined) writeFileSync(jsonPath, JSON.stringify(results, null, 2));
