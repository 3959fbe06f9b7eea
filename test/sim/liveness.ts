/**
 * The liveness phase: heal everything (no loss, no partitions, every crashed replica restarted)
 * and require, within bounded time, that a new entry commits and is applied on every member of the
 * final configuration; that the idle group quiesces and goes silent; that a new leader is elected
 * once a client wakes the group after its quiesced leader crashed; and that all members end with
 * identical state machines.
 */
import { assert } from "../../src/shared/assert.ts";
import { members, isJoint } from "../../src/raft/confchange.ts";
import { noNode, type Index, type NodeId } from "../../src/raft/types.ts";
import type { Replica } from "./replica.ts";
import type { Workload } from "./workload.ts";
import type { World } from "./world.ts";
import { pick } from "./options.ts";

/** The group failed to make progress within a bound after everything was healed. */
export class LivenessFailure extends Error {
  override name = "LivenessFailure";
}

/** Elections, catch-up and snapshot transfer must finish within this many election timeouts. */
export const livenessElectionTimeoutsMax = 100;
/** Steps allowed per tick of the bound before the phase counts as a message storm. */
const stepsPerTickMax = 400;

/** Runs the liveness phase on a world whose safety phase is over. Throws LivenessFailure. */
export function runLiveness(world: World, workload: Workload): void {
  healEverything(world);
  workload.paused = true;
  const settings = world.options.workload;
  waitFor(world, "every client call to finish", (settings.retriesMax + 3) * settings.requestTimeoutTicks, () => !workload.busy);
  const firstProbe = probe(world, workload, noNode, "the first write after healing");
  retireNonMembers(world);
  waitTicks(world, world.network.faults.delayTicksMax + 2); // what the retired replicas sent has arrived
  checkQuiescence(world, workload, firstProbe);
  checkSameState(world);
}

function healEverything(world: World): void {
  world.midReadyCrashes = false;
  const network = world.network;
  network.heal();
  const delayTicksMax = Math.min(network.faults.delayTicksMax, Math.max(0, Math.floor(world.options.electionTicks / 4) - 1));
  network.faults = { ...network.faults, dropProbability: 0, duplicateProbability: 0, stragglerProbability: 0, delayTicksMax };
  for (const id of world.ids()) if (!world.replica(id).alive && !world.retired.has(id)) world.restart(id);
  retireRemoved(world); // judged once every replica has re-applied its log, so the latest conf is known
  world.log("liveness phase: network healed, every replica running");
}

/**
 * Retires the replicas that an applied membership change removed (their host garbage-collects
 * them): without PreVote and CheckQuorum, a removed replica that never learned of its removal
 * disrupts the group with ever higher terms (thesis 4.2.3), which no amount of healing cures.
 * A replica is retired only once every remaining member has applied its removal: configurations
 * take effect when applied, so a member that lags still needs the removed replica's vote.
 */
function retireRemoved(world: World): void {
  let latest: { applied: Index; ids: NodeId[] } | undefined;
  const confs = new Map<NodeId, NodeId[]>();
  for (const replica of world.alive()) {
    const ids = members(replica.status().conf);
    confs.set(replica.id, ids);
    if (latest === undefined || replica.appliedIndex > latest.applied) latest = { applied: replica.appliedIndex, ids };
  }
  if (latest === undefined) return;
  const remaining = latest.ids;
  for (const id of world.ids()) {
    if (!world.everMembers.has(id) || remaining.includes(id)) continue;
    const stillNeeded = remaining.some((member) => confs.get(member)?.includes(id) ?? true);
    if (!stillNeeded) world.retire(id);
  }
}

/** Writes through a client that never gives up, connected to `home` (or none); returns the index it was applied at. */
function probe(world: World, workload: Workload, home: NodeId, what: string, liveOnly = false): Index {
  const clientId = workload.startProbe(home);
  let index: Index | null = null;
  waitFor(world, `${what} to commit and apply on every ${liveOnly ? "live " : ""}member`, electionBound(world), () => {
    index ??= workload.probeIndex(clientId);
    return index !== null && membersApplied(world, index, liveOnly);
  });
  assert(index !== null, "the probe completed");
  world.log(`liveness: ${what} applied at index ${index} on every member`);
  return index;
}

/** Whether a leader runs a non-joint configuration whose members (the live ones, if `liveOnly`) all applied `index`. */
function membersApplied(world: World, index: Index, liveOnly = false): boolean {
  const ids = finalMembers(world);
  if (ids === null) return false;
  return ids.every((id) => {
    const replica = world.replica(id);
    if (!replica.alive) return liveOnly;
    return replica.appliedIndex >= index;
  });
}

/** Members of the leader's configuration once it is not joint; null while there is no such leader. */
function finalMembers(world: World): NodeId[] | null {
  const leader = world.leader();
  if (leader === undefined) return null;
  const conf = leader.status().conf;
  return isJoint(conf) ? null : members(conf);
}

/** Stops replicas outside the final configuration for good, as a host garbage-collects removed replicas. */
function retireNonMembers(world: World): void {
  const ids = finalMembers(world);
  assert(ids !== null, "a leader runs the final configuration");
  for (const replica of world.alive()) if (!ids.includes(replica.id)) world.retire(replica.id);
}

/**
 * Quiescence: the idle group goes quiet and stops sending; if its leader then crashes, a client
 * request wakes the followers and a new leader is elected; the old leader rejoins on restart.
 */
function checkQuiescence(world: World, workload: Workload, lastIndex: Index): void {
  const electionTicks = world.options.electionTicks;
  // Late answers may wake the leader once more; it is quiet for good once nothing is in flight.
  const quiet = () => world.leader()?.status().quiesced === true && world.network.size === 0;
  waitFor(world, "the idle leader to quiesce with nothing in flight", electionTicks * 30, quiet);
  const sentBefore = world.network.counters.sent;
  waitTicks(world, electionTicks * 2);
  const sent = world.network.counters.sent - sentBefore;
  if (sent > 0) throw new LivenessFailure(`the quiesced group sent ${sent} messages in ${electionTicks * 2} idle ticks`);
  const leader = world.leader()!;
  const voters = leader.status().conf.voters;
  if (voters.length < 3) return; // losing the leader would lose the quorum: nothing to check
  world.log(`liveness: crash the quiesced leader ${leader.id}`);
  world.crash(leader.id);
  world.stats.quiescedLeaderCrashes++;
  waitTicks(world, electionTicks * 3);
  const followers = world.alive().filter((replica) => voters.includes(replica.id));
  const woken = probe(world, workload, pick(world.clientRng, followers).id, "a write that wakes the group after its leader crashed", true);
  assert(woken > lastIndex, "the wake-up write is new");
  world.restart(leader.id);
  waitFor(world, `the old leader ${leader.id} to catch up`, electionBound(world), () => membersApplied(world, woken));
}

/** Every member applies the same log to the end and holds the same state machine. */
function checkSameState(world: World): void {
  let replicas: Replica[] = [];
  waitFor(world, "every member to apply the whole log", electionBound(world), () => {
    const leader = world.leader();
    const ids = finalMembers(world);
    if (leader === undefined || ids === null) return false;
    const status = leader.status();
    if (status.commit !== status.lastIndex) return false;
    replicas = ids.map((id) => world.replica(id));
    return replicas.every((replica) => replica.alive && replica.appliedIndex === status.commit);
  });
  const [first, ...others] = replicas;
  assert(first !== undefined, "the configuration has members");
  const expected = first.machineSnapshot();
  for (const replica of others) {
    if (!sameBytes(replica.machineSnapshot(), expected)) {
      throw new LivenessFailure(`replicas ${first.id} and ${replica.id} applied index ${first.appliedIndex} but hold different state`);
    }
  }
}

function electionBound(world: World): number {
  return world.options.electionTicks * livenessElectionTimeoutsMax;
}

/** Steps until `done()` holds; fails after `ticksMax` ticks (or a message storm of too many steps). */
function waitFor(world: World, what: string, ticksMax: number, done: () => boolean): void {
  const tickLimit = world.now + ticksMax;
  const stepLimit = world.steps + ticksMax * stepsPerTickMax;
  while (!done()) {
    if (world.now > tickLimit || world.steps > stepLimit) {
      throw new LivenessFailure(`liveness: waited ${ticksMax} ticks for ${what}; ${describeGroup(world)}`);
    }
    world.step();
  }
}

function waitTicks(world: World, ticks: number): void {
  const until = world.now + ticks;
  waitFor(world, `${ticks} ticks to pass`, ticks + 1, () => world.now >= until);
}

/** Role, term, commit and applied index of every replica, for failure reports. */
export function describeGroup(world: World): string {
  return world
    .ids()
    .map((id) => {
      const replica = world.replica(id);
      if (!replica.alive) return `${id}: down`;
      const status = replica.status();
      return `${id}: ${status.role} term ${status.term} leader ${status.leader} commit ${status.commit} applied ${status.applied} last ${status.lastIndex}${status.quiesced ? " quiesced" : ""}`;
    })
    .join("; ");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let index = 0; index < a.byteLength; index++) if (a[index] !== b[index]) return false;
  return true;
}
