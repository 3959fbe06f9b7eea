/**
 * The fault injector of the safety phase: on each tick it may partition the network (split,
 * one-way links, an isolated node, a bridge), heal it, crash and restart replicas, change the
 * membership, transfer leadership, or start a quiet period with no client traffic so that the group
 * quiesces (and sometimes crash the quiesced leader). Probabilities come from the seed.
 */
import type { Rng } from "../../src/shared/rng.ts";
import { replicasMax } from "../../src/shared/limits.ts";
import { members } from "../../src/raft/confchange.ts";
import type { ConfChangeSingle, NodeId } from "../../src/raft/types.ts";
import type { NemesisSettings, NetworkFaults } from "./options.ts";
import type { World } from "./world.ts";
import { describeConf } from "./trace.ts";
import { pick } from "./options.ts";

/** Most replica ids ever created in one run (members come and go; ids are never reused). */
export const replicaIdsMax = 16;

/** What a quiet period pauses: the clients (a Workload, or the multi-group world's clients). */
export interface Pausable {
  paused: boolean;
}

/** Injects faults into a World during the safety phase. */
export class Nemesis {
  private readonly world: World;
  private readonly workload: Pausable;
  private readonly rng: Rng;
  private readonly settings: NemesisSettings;
  /** The seed's network faults, put back when a calm quiet period ends. */
  private readonly faults: NetworkFaults;
  private quietUntil = -1;
  private calm = false;
  private quietLeaderCrashed = false;

  constructor(world: World, workload: Pausable, rng: Rng, settings: NemesisSettings) {
    this.world = world;
    this.workload = workload;
    this.rng = rng;
    this.settings = settings;
    this.faults = world.network.faults;
  }

  /** One tick of fault injection. */
  onTick(): void {
    const { rng, settings } = this;
    if (this.quietUntil >= 0) this.duringQuiet();
    else if (rng.chance(settings.quietProbability)) this.startQuiet();
    if (!this.calm) {
      if (rng.chance(settings.partitionProbability)) this.partition();
      if (this.world.network.blockedCount > 0 && rng.chance(settings.healProbability)) this.heal();
      if (rng.chance(settings.crashProbability)) this.crashOne();
      this.maybeCrashNewLeader();
    }
    if (rng.chance(settings.restartProbability)) this.restartOne();
    if (rng.chance(settings.confChangeProbability)) this.changeMembership();
    if (rng.chance(settings.transferProbability)) this.transferLeadership();
    if (settings.wipeProbability > 0 && rng.chance(settings.wipeProbability)) this.wipeOne();
  }

  /** Ends any quiet period and puts back the seed's network faults. */
  endQuiet(): void {
    if (this.quietUntil < 0) return;
    this.quietUntil = -1;
    this.calm = false;
    this.workload.paused = false;
    this.world.network.faults = this.faults;
    this.world.log("quiet period ends");
  }

  private startQuiet(): void {
    this.quietUntil = this.world.now + this.settings.quietTicks;
    this.quietLeaderCrashed = false;
    this.workload.paused = true;
    this.calm = this.rng.chance(this.settings.calmProbability);
    this.world.stats.quietPeriods++;
    if (this.calm) {
      this.world.network.heal();
      this.world.network.faults = { ...this.faults, dropProbability: 0, duplicateProbability: 0 };
    }
    this.world.log(`quiet period for ${this.settings.quietTicks} ticks${this.calm ? ", network calm" : ""}`);
  }

  private duringQuiet(): void {
    if (this.world.now >= this.quietUntil) {
      this.endQuiet();
      return;
    }
    if (this.quietLeaderCrashed) return;
    const leader = this.world.leader();
    if (leader === undefined || !leader.status().quiesced) return;
    if (!this.rng.chance(this.settings.quiescedLeaderCrashProbability)) return;
    this.quietLeaderCrashed = true;
    this.world.stats.quiescedLeaderCrashes++;
    this.world.log(`crash the quiesced leader ${leader.id}`);
    this.world.crash(leader.id);
  }

  private partition(): void {
    const network = this.world.network;
    const ids = shuffle(this.rng, this.world.ids());
    network.heal();
    const leader = this.world.leader();
    const kind = this.rng.int(6);
    if (kind <= 1 && leader !== undefined) {
      // Isolate the leader: the most interesting partition, since a deposed leader that does not
      // know it yet must neither commit nor serve reads.
      network.split([leader.id], ids.filter((id) => id !== leader.id));
    } else if (kind <= 1) {
      network.split([ids[0]!], ids.slice(1)); // isolate one node
    } else if (kind === 2) {
      const cut = 1 + this.rng.int(ids.length - 1);
      network.split(ids.slice(0, cut), ids.slice(cut));
    } else if (kind === 3) {
      const links = 1 + this.rng.int(ids.length * 2);
      for (let link = 0; link < links; link++) network.block(pick(this.rng, ids), pick(this.rng, ids)); // one-way
    } else if (kind === 4 && leader !== undefined) {
      // The leader hears nobody but everyone hears the leader (one-way).
      for (const id of ids) network.block(id, leader.id);
    } else {
      const rest = ids.slice(1); // ids[0] is a bridge: the two sides reach it but not each other
      const cut = 1 + this.rng.int(Math.max(1, rest.length - 1));
      network.split(rest.slice(0, cut), rest.slice(cut));
    }
    this.world.stats.partitions++;
    this.world.log(`partition: ${network.describeBlocked()}`);
  }

  private heal(): void {
    this.world.network.heal();
    this.world.log("heal the network");
  }

  private crashOne(): void {
    const alive = this.world.alive();
    const down = this.world.replicas.size - alive.length;
    if (down >= this.settings.crashedMax || alive.length === 0) return;
    const leader = this.world.leader();
    const victim = leader !== undefined && this.rng.chance(0.4) ? leader : pick(this.rng, alive);
    this.world.crash(victim.id);
  }

  /**
   * Crashes a leader in its first tick, sometimes: short-lived leaders that replicated their log
   * to only some followers are what the subtle commit rules of Raft (thesis figure 3.7) are about.
   */
  private maybeCrashNewLeader(): void {
    const leader = this.world.leader();
    if (leader === undefined || this.world.electedAt.get(leader.id) !== this.world.now - 1) return;
    if (!this.rng.chance(this.settings.newLeaderCrashProbability)) return;
    if (this.world.replicas.size - this.world.alive().length >= this.settings.crashedMax) return;
    this.world.log(`crash the new leader ${leader.id}`);
    this.world.crash(leader.id);
  }

  /**
   * Wipes one replica's disk, while no other is still recovering from a wipe and only where the
   * group keeps a quorum of intact voters without it: otherwise (two lost at once in a group of
   * three, or one of two voters) no leader can be elected to catch it up, and the group waits
   * for good, safely, as etcd does; that is the operator's disaster, not a fault to recover from.
   */
  private wipeOne(): void {
    if (this.world.recoveringCount() > 0) return;
    const candidates = this.world.ids().filter((id) => !this.world.retired.has(id) && this.world.quorumWithout(id));
    if (candidates.length === 0) return;
    this.world.wipe(pick(this.rng, candidates));
  }

  private restartOne(): void {
    const down = this.world.ids().filter((id) => !this.world.replica(id).alive);
    if (down.length > 0) this.world.restart(pick(this.rng, down));
  }

  private changeMembership(): void {
    const leader = this.world.leader();
    if (leader === undefined) return;
    const conf = leader.status().conf;
    const changes = this.chooseChange(conf.voters, conf.learners, members(conf).length);
    if (changes === null) return;
    const result = leader.proposeConfChange({ changes });
    this.world.touch(leader);
    this.world.stats.confChangesProposed++;
    const described = changes.map((change) => `${change.type} ${change.node}`).join(", ");
    this.world.log(`propose at ${leader.id} (${describeConf(conf)}): ${described} -> ${result.ok ? "accepted" : result.error}`);
    if (!result.ok) return;
    for (const change of changes) {
      if (change.type !== "removeVoter" && !this.world.replicas.has(change.node)) this.world.addReplica(change.node);
    }
  }

  /** A membership change that keeps at least three voters (rarely two) and at most replicasMax members. */
  private chooseChange(voters: readonly NodeId[], learners: readonly NodeId[], membersCount: number): ConfChangeSingle[] | null {
    const fresh = this.world.replicas.size < replicaIdsMax ? Math.max(...this.world.ids()) + 1 : null;
    const canGrow = fresh !== null && membersCount < replicasMax;
    // Not while a replica recovers a lost disk: fewer voters could leave no quorum without it.
    const canShrink = this.world.recoveringCount() === 0 && (voters.length > 3 || (voters.length === 3 && this.rng.chance(0.05)));
    const choices: (() => ConfChangeSingle[])[] = [];
    if (canGrow) choices.push(() => [{ type: "addVoter", node: fresh }], () => [{ type: "addLearner", node: fresh }]);
    if (learners.length > 0) {
      choices.push(() => [{ type: "addVoter", node: pick(this.rng, learners) }]);
      choices.push(() => [{ type: "removeVoter", node: pick(this.rng, learners) }]);
    }
    if (canShrink) {
      choices.push(() => [{ type: "removeVoter", node: pick(this.rng, voters) }]);
      choices.push(() => [{ type: "addLearner", node: pick(this.rng, voters) }]);
    }
    if (canGrow && voters.length > 0) {
      choices.push(() => [{ type: "removeVoter", node: pick(this.rng, voters) }, { type: "addVoter", node: fresh }]);
    }
    return choices.length === 0 ? null : pick(this.rng, choices)();
  }

  private transferLeadership(): void {
    const leader = this.world.leader();
    if (leader === undefined) return;
    const voters = leader.status().conf.voters.filter((id) => id !== leader.id);
    if (voters.length === 0) return;
    // Now and then an invalid target (itself, a learner, a removed replica): the leader must ignore it.
    const target = this.rng.chance(0.1) ? pick(this.rng, this.world.ids()) : pick(this.rng, voters);
    this.world.stats.transfers++;
    this.world.log(`transfer leadership from ${leader.id} to ${target}`);
    leader.transferLeader(target);
    this.world.touch(leader);
  }
}

/** A shuffled copy of `items` (Fisher-Yates). */
export function shuffle<T>(rng: Rng, items: readonly T[]): T[] {
  const result = items.slice();
  for (let index = result.length - 1; index > 0; index--) {
    const other = rng.int(index + 1);
    [result[index], result[other]] = [result[other]!, result[index]!];
  }
  return result;
}
