/**
 * The write path of Deno nodes without HTTP or sockets: three NodeStorages (three SQLite files,
 * synced as nodes sync them) in one Deno process, each hosting a replica of every group (`groups`,
 * leaders spread over the three), their messages batched per destination and handed over in
 * separate event-loop tasks as frames are. `clients` loops propose puts of
 * 100-byte values at the leader (with a client session, as the router's writes carry) and wait
 * for them to be applied. Prints writes/s and the process's CPU per write: the cost of
 * replication, storage and apply on three nodes, the part of a write the HTTP front and the
 * transport do not explain.
 *
 *   npm run bench:deno-pipeline -- [--clients=64] [--seconds=5] [--groups=1]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import process from "node:process";
import { NodeStorage } from "../../src/hosts/deno/node-storage.ts";
import { NodeReplica } from "../../src/hosts/deno/node-replica.ts";
import type { Message } from "../../src/raft/types.ts";

const { values } = parseArgs({ args: Deno.args, options: { clients: { type: "string", default: "64" }, seconds: { type: "string", default: "5" }, groups: { type: "string", default: "1" } } });
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const groupCount = Number(values.groups);
const work = mkdtempSync(join(tmpdir(), "edgeraft-pipeline-"));
const groups = Array.from({ length: groupCount }, (_, g) => `pipeline-${g}`);

/** One macrotask per delivery, as each WebSocket frame is its own task. */
const channel = new MessageChannel();
const deliveries: (() => void)[] = [];
(channel.port1 as unknown as { onmessage: () => void }).onmessage = () => deliveries.shift()?.(); // the web MessagePort under Deno
const deliver = (task: () => void) => {
  deliveries.push(task);
  channel.port2.postMessage(null);
};
const storages = [1, 2, 3].map((id) => new NodeStorage(join(work, `node-${id}.sqlite`), { failed: (error) => { throw error; } }));
/** replicas.get(group)[id - 1] is replica `id` of `group`, on storage `id`. */
const replicas = new Map<string, NodeReplica[]>();
/** Batches queued this task per destination node, as the node transport queues them. */
const queued = new Map<number, { group: string; to: number; messages: Message[] }[]>();
const send = (group: string, to: number, messages: Message[]) => {
  const frame = queued.get(to);
  if (frame !== undefined) return void frame.push({ group, to, messages });
  queued.set(to, [{ group, to, messages }]);
  queueMicrotask(() => {
    const batches = queued.get(to)!;
    queued.delete(to);
    deliver(() => {
      for (const batch of batches) replicas.get(batch.group)![batch.to - 1]!.receive(batch.messages);
    });
  });
};
for (const group of groups) {
  replicas.set(
    group,
    storages.map(
      (storage, i) =>
        new NodeReplica({
          storage,
          scope: `${group}/${i + 1}`,
          timing: { tickMs: 100 },
          send: (_group, _from, to, messages) => send(group, to, messages),
          wake: () => {},
          failed: (_replica, error) => {
            throw error;
          },
        }),
    ),
  );
  for (const [i, replica] of replicas.get(group)!.entries()) replica.bootstrap({ group, replica: i + 1, voters: [1, 2, 3], locations: {}, owns: { default: true }, epoch: 1 });
}
const ticker = setInterval(() => {
  for (const members of replicas.values()) for (const replica of members) replica.tick(Date.now());
}, 20);
// Leaders spread over the three nodes: group g is led by replica g % 3 + 1.
const leaders = groups.map((group, g) => replicas.get(group)![g % 3]!);
for (const leader of leaders) leader.runtime!.campaign();
while (leaders.some((leader) => leader.runtime!.node.brief().role !== "leader")) await new Promise((resolve) => setTimeout(resolve, 10));

let writes = 0;
let stopping = false;
const value = new Uint8Array(100).fill(97);
const client = async (id: number, counting: () => boolean) => {
  for (let seq = 1; !stopping; seq++) {
    const leader = leaders[(id + seq) % leaders.length]!.runtime!;
    const answer = await leader.write({ clientId: `client-${id}`, seq, timeMs: Date.now(), operation: { type: "put", key: `k${(id * 7919 + seq) % 1000}`, value } });
    if (answer.kind !== "applied") throw new Error(`write refused: ${JSON.stringify(answer)}`);
    if (counting()) writes++;
  }
};
let counting = false;
const loops = Array.from({ length: clients }, (_, id) => client(id, () => counting));
await new Promise((resolve) => setTimeout(resolve, 1000)); // warm-up
const countersBefore = storages.map((storage) => ({ ...storage.counters }));
const cpuBefore = process.cpuUsage();
const startedMs = performance.now();
counting = true;
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
counting = false;
const elapsedMs = performance.now() - startedMs;
const cpu = process.cpuUsage(cpuBefore);
const counted = writes;
stopping = true;
await Promise.all(loops);
clearInterval(ticker);
const perWrite = (name: "syncs" | "passes" | "turns") => storages.map((storage, i) => ((storage.counters[name] - countersBefore[i]![name]) / counted).toFixed(2)).join(" / ");
for (const members of replicas.values()) for (const replica of members) replica.close();
for (const storage of storages) storage.close();
channel.port1.close();
rmSync(work, { recursive: true, force: true });
const perWriteUs = (microseconds: number) => (microseconds / counted).toFixed(0);
console.log(`${groupCount} group(s), ${(counted / (elapsedMs / 1000)).toFixed(0)} writes/s at ${clients} clients; CPU per write ${perWriteUs(cpu.user + cpu.system)} us (user ${perWriteUs(cpu.user)}, system ${perWriteUs(cpu.system)}), all three replicas and the syncs`);
console.log(`per write, nodes 1 / 2 / 3: syncs ${perWrite("syncs")}; passes ${perWrite("passes")}; turns ${perWrite("turns")}`);
