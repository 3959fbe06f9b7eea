/**
 * The chaos campaign's nemesis: a seeded schedule of faults against one target group, applied
 * through the fault routes (crash a replica, isolate the current leader, drop a fifth of the Raft
 * messages, heal) and by killing and restarting the whole wrangler dev process. Every fault is
 * healed before the next one, and each leaves a window on the clock that the report uses to tell
 * answers given under a fault from answers given to a healthy cluster.
 */
import type { Rng } from "../../src/shared/rng.ts";
import { send, sendJson } from "./http.ts";
import type { ChaosServer } from "./server.ts";

/** The kinds of fault the nemesis injects (heal counted apart). */
export type FaultKind = "crash" | "isolate" | "drop" | "restart";

/** A span of the scenario clock during which a fault was in force or the cluster was recovering from it. */
export interface FaultWindow {
  kind: FaultKind;
  startMs: number;
  endMs: number;
  detail: string;
}

/** What the nemesis needs. */
export interface NemesisOptions {
  server: ChaosServer;
  /** The group every fault (but the process restart) targets. */
  group: string;
  replicas: number[];
  rng: Rng;
  clock(): number;
  /** When to stop injecting (scenario clock). */
  stopAtMs: number;
  /** When to kill and restart the whole process (scenario clock). */
  restartAtMs: readonly number[];
  /** Called with one line per action, for the progress log. */
  log(line: string): void;
}

/** Time after a fault is lifted that still counts as recovery (elections take up to 1 s at a 50 ms tick). */
export const recoveryMs = 3_000;
const faultTimeoutMs = 10_000;

/** What the nemesis did. */
export interface NemesisRecord {
  injected: Map<FaultKind | "heal", number>;
  windows: FaultWindow[];
}

/** The nemesis while it runs: its options plus what it has done so far. */
interface Nemesis extends NemesisOptions {
  record: NemesisRecord;
}

/** Runs the schedule until `stopAtMs`, then heals the target group. */
export async function runNemesis(options: NemesisOptions): Promise<NemesisRecord> {
  const nemesis: Nemesis = { ...options, record: { injected: new Map(), windows: [] } };
  const restarts = [...options.restartAtMs];
  // Each kind of fault comes once, in a seeded order, before any comes again; a variant of it is drawn each time.
  const kinds: Array<Array<(nemesis: Nemesis) => Promise<void>>> = [[crashLeader, crashAny], [isolateLeader], [dropFifth, dropAndCrash]];
  let deck: typeof kinds = [];
  await sleep(1_500); // let the clients warm the cluster up first
  while (nemesis.clock() < nemesis.stopAtMs) {
    if (restarts.length > 0 && nemesis.clock() >= restarts[0]!) {
      restarts.shift();
      await restart(nemesis);
    } else {
      if (deck.length === 0) deck = shuffle(kinds, nemesis.rng);
      const variants = deck.pop()!;
      await variants[nemesis.rng.int(variants.length)]!(nemesis);
    }
    await sleep(1_000 + nemesis.rng.int(2_000)); // a healthy spell between faults
  }
  await heal(nemesis);
  return nemesis.record;
}

function count(nemesis: Nemesis, kind: FaultKind | "heal"): void {
  nemesis.record.injected.set(kind, (nemesis.record.injected.get(kind) ?? 0) + 1);
}

async function restart(nemesis: Nemesis): Promise<void> {
  const startMs = nemesis.clock();
  nemesis.log("restart: killing wrangler dev (SIGKILL to its process group)");
  await nemesis.server.restart();
  nemesis.log(`restart: wrangler dev answers again after ${((nemesis.clock() - startMs) / 1000).toFixed(1)} s`);
  count(nemesis, "restart");
  nemesis.record.windows.push({ kind: "restart", startMs, endMs: nemesis.clock() + recoveryMs, detail: "the whole wrangler dev process" });
}

async function crashLeader(nemesis: Nemesis): Promise<void> {
  const leader = await leaderOf(nemesis);
  return crash(nemesis, leader, `crash leader ${leader}`);
}

async function crashAny(nemesis: Nemesis): Promise<void> {
  const replica = nemesis.replicas[nemesis.rng.int(nemesis.replicas.length)]!;
  return crash(nemesis, replica, `crash replica ${replica}`);
}

async function crash(nemesis: Nemesis, replica: number, detail: string): Promise<void> {
  const startMs = nemesis.clock();
  if (!(await inject(nemesis, { kind: "crash", group: nemesis.group, replica }))) return;
  nemesis.log(detail);
  count(nemesis, "crash");
  nemesis.record.windows.push({ kind: "crash", startMs, endMs: nemesis.clock() + recoveryMs, detail });
}

async function isolateLeader(nemesis: Nemesis): Promise<void> {
  const leader = await leaderOf(nemesis);
  return hold(nemesis, "isolate", { kind: "isolate", group: nemesis.group, replica: leader }, `isolate leader ${leader}`);
}

async function dropFifth(nemesis: Nemesis): Promise<void> {
  return hold(nemesis, "drop", { kind: "drop", group: nemesis.group, fraction: 0.2 }, "drop 20% of messages");
}

/** Drops a fifth of the messages and crashes the leader while they are dropped. */
async function dropAndCrash(nemesis: Nemesis): Promise<void> {
  return hold(nemesis, "drop", { kind: "drop", group: nemesis.group, fraction: 0.2 }, "drop 20% of messages, then crash the leader", async () => {
    await sleep(1_000);
    const leader = await leaderOf(nemesis);
    if (!(await inject(nemesis, { kind: "crash", group: nemesis.group, replica: leader }))) return;
    nemesis.log(`  crash leader ${leader} while dropping`);
    count(nemesis, "crash");
  });
}

/** Applies `fault`, keeps it 2 to 5 s (running `during` meanwhile), then heals the group. */
async function hold(nemesis: Nemesis, kind: FaultKind, fault: object, detail: string, during?: () => Promise<void>): Promise<void> {
  const startMs = nemesis.clock();
  if (!(await inject(nemesis, fault))) return;
  nemesis.log(detail);
  count(nemesis, kind);
  const holdMs = 2_000 + nemesis.rng.int(3_000);
  await Promise.all([sleep(holdMs), during?.()]);
  await heal(nemesis);
  nemesis.record.windows.push({ kind, startMs, endMs: nemesis.clock() + recoveryMs, detail });
}

async function heal(nemesis: Nemesis): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await inject(nemesis, { kind: "heal", group: nemesis.group })) {
      nemesis.log("heal");
      count(nemesis, "heal");
      return;
    }
    await sleep(500);
  }
  nemesis.log("heal: the fault route did not answer");
}

async function inject(nemesis: Nemesis, fault: object): Promise<boolean> {
  if (!nemesis.server.up) await nemesis.server.ready();
  const outcome = await send(nemesis.server.url, "/v1/faults", { method: "POST", body: JSON.stringify(fault), timeoutMs: faultTimeoutMs });
  return outcome.kind === "response" && outcome.status === 200;
}

/** The current leader of the target group from its health (a random replica when none is known yet). */
export async function leaderOf(nemesis: Pick<NemesisOptions, "server" | "group" | "replicas" | "rng">): Promise<number> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const inspected = await sendJson<{ health?: { leader?: number } }>(nemesis.server.url, `/v1/groups/${nemesis.group}`, { timeoutMs: faultTimeoutMs });
    const leader = inspected?.health?.leader ?? 0;
    if (leader > 0) return leader;
    await sleep(300);
  }
  return nemesis.replicas[nemesis.rng.int(nemesis.replicas.length)]!;
}

/** A shuffled copy of `items` (Fisher-Yates). */
function shuffle<T>(items: readonly T[], rng: Rng): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = rng.int(index + 1);
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
