/**
 * The metadata group seen from the router: JSON records in the meta group's KV (groups, the
 * routing table, tenant tokens), read linearizably and changed with compare-and-set, so two
 * routers racing on the same change cannot both win. Group creation is a saga whose progress is
 * recorded in the group's record ("creating" -> "active"); every step is idempotent, so any router
 * that finds an unfinished record finishes it, whoever crashed in between.
 */
import { emptyRoutingTable, type RoutingTable } from "../../multiraft/routing.ts";
import type { BootstrapRequest, LeadershipReply, Ownership } from "../../multiraft/protocol.ts";
import type { Span } from "../../kv/span.ts";
import type { BatchStep } from "../../kv/command.ts";
import type { ClusterError } from "../cluster.ts";
import { metaGroup, type GroupDescriptor } from "./directory.ts";
import { applyError, type GroupIo } from "./group-io.ts";
import { withDeadline, type ReplicaCaller } from "./replica-caller.ts";
import { settleSignal, wakeOrPoll } from "./wake.ts";

/** A group as the metadata group records it. */
export interface GroupRecord extends GroupDescriptor {
  /** "removed": a tombstone; the name is never reused (its replica objects keep the removed group's identity). */
  state: "creating" | "active" | "deleting" | "removed";
  /** What the group was created for (for people); what it serves is in the range table and its log. */
  owns: Ownership;
  /** The spans the create saga gives the group through its log (absent in records from before ranges: everything). */
  initialSpans?: Span[];
  /** Made by an automatic split: the balancer may merge it back into a neighbour when it goes quiet. */
  auto?: true;
  /** One of the groups of a hashed tenant keyspace: its spans are hash slots. */
  hashed?: true;
  /** The id the next added replica gets (absent: one more than the largest listed); ids are never reused. */
  replicaIdNext?: number;
  /** A membership change in progress (replicas.ts); any router that finds it finishes it first. */
  replicaChange?: ReplicaChange;
}

/** A membership change of a group, recorded before it is carried out. */
export interface ReplicaChange {
  /** The replica being added (already listed in the record's replicas, so it can be reached). */
  add?: number;
  /** The replica being removed (listed until the change is finished, then retired). */
  remove?: number;
}

/** A record read from the metadata group with the version to compare-and-set against. */
export interface Versioned<T> {
  value: T;
  version: number;
}

type MetaResult<T> = { ok: true; value: T } | { ok: false; error: ClusterError };

/** Longest a create saga waits for its new group's first election before going on regardless, in milliseconds. */
const firstElectionWaitMsMax = 2_000;
/** How often the saga asks replica 1 whether its first election is decided, in milliseconds. */
const firstElectionPollMs = 10;

/** How long a caller waits for another's bootstrap of the metadata group before running one itself, in milliseconds. */
const bootstrapWaitMs = 15_000;
/** How often, at most, the metadata replicas whose bootstrap went unanswered are asked again, in milliseconds. */
const askAgainMs = 1_000;
/** How long after its start a bootstrap that has not reached a majority asks the replicas that did not answer again (backing off from the first delay to askAgainMs) before its callers go on, in milliseconds. */
const bootstrapRetryMs = 3_000;
const bootstrapRetryFirstMs = 50;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The metadata group's bootstrap in this isolate; running: a promise that resolves when it settles. */
type BootstrapState = "not started" | Promise<void> | "done";

/** Access to metadata records. */
export class Metadata {
  private readonly io: GroupIo;
  private readonly caller: ReplicaCaller;
  private readonly locations: string[];
  private bootstrap: BootstrapState = "not started";
  /** Replicas whose bootstrap went unanswered when a majority's was answered (a node down or starting): asked again, in the background. */
  private unanswered: number[] = [];
  private askAgainAfter = 0;

  constructor(io: GroupIo, caller: ReplicaCaller, locations: string[]) {
    this.io = io;
    this.caller = caller;
    this.locations = locations;
  }

  /**
   * Bootstraps the metadata group's replicas once per isolate (idempotent on the replicas), done
   * once a majority answered; without one, those that did not answer are asked again for up to
   * bootstrapRetryMs before the callers go on (to fail as the group does; the next caller starts
   * over). Callers that find it under way wait for it as wake.ts says, and look again; once done,
   * replicas that did not answer are asked again at most once per askAgainMs, in the background.
   */
  async ensureBootstrapped(): Promise<void> {
    let waitingFor: Promise<void> | undefined;
    let since = 0;
    while (this.bootstrap !== "done") {
      if (this.bootstrap !== "not started") {
        const running = this.bootstrap; // never a settled promise: it is replaced before it wakes anyone
        if (running !== waitingFor) [waitingFor, since] = [running, Date.now()];
        await wakeOrPoll(running, 100);
        // Stuck (a cancelled request's bootstrap never reaches its finally): start another (bootstrap is idempotent).
        if (this.bootstrap === running && Date.now() - since > bootstrapWaitMs) this.bootstrap = "not started";
        else if ((this.bootstrap as BootstrapState) === "not started") return; // it settled without a majority: go on (and fail as the group does), the next caller tries again
        continue;
      }
      const signal = settleSignal();
      this.bootstrap = signal.settled;
      try {
        const voters = metaGroup.replicas.map((r) => r.id);
        const founded: number[] = [];
        const refused: number[] = [];
        // A majority is enough to found the group. The rest must be founded by a bootstrap too: a
        // Deno node's replica waits for one (hosts/deno/replica-adoption.ts). Without a majority
        // the ones not answered are asked again for a while: a node's first request can come
        // before its connections to its peers are up (every call to them fails at once), and
        // this request would then spend its whole wait on a group that has no leader to elect.
        const deadlineMs = Date.now() + bootstrapRetryMs;
        for (let round = 0; ; round++) {
          const asked = voters.filter((replica) => !founded.includes(replica) && !refused.includes(replica));
          // The first round is waited for as before (a caller takes over a run stuck for bootstrapWaitMs); the rounds after it only until the deadline.
          const answers = round === 0 ? await this.bootstrapReplicas(asked) : await withDeadline(deadlineMs, () => this.bootstrapReplicas(asked)).catch(() => undefined);
          if (answers === undefined) return;
          founded.push(...answers.founded);
          refused.push(...answers.refused);
          if (founded.length * 2 > voters.length) break;
          const waitMs = Math.min(bootstrapRetryFirstMs * 2 ** round, askAgainMs, deadlineMs - Date.now());
          if (waitMs <= 0 || (voters.length - refused.length) * 2 <= voters.length) return; // out of time, or too many refused for a majority
          await new Promise((resolve) => setTimeout(resolve, waitMs));
        }
        this.unanswered = voters.filter((replica) => !founded.includes(replica) && !refused.includes(replica));
        this.askAgainAfter = Date.now() + askAgainMs;
        this.bootstrap = "done";
      } finally {
        // Not a run that took over from this one meanwhile (this one looked stuck), nor one done.
        if (this.bootstrap === signal.settled) this.bootstrap = "not started";
        signal.wake();
      }
    }
    if (this.unanswered.length > 0 && Date.now() >= this.askAgainAfter) {
      this.askAgainAfter = Date.now() + askAgainMs;
      const asked = this.unanswered;
      void this.bootstrapReplicas(asked)
        .then(({ founded, refused }) => (this.unanswered = this.unanswered.filter((replica) => !founded.includes(replica) && !refused.includes(replica))))
        .catch(() => undefined); // asked again next time
    }
  }

  /**
   * Sends the metadata group's bootstrap request to `replicas`: the ones founded (or already
   * members), and the ones that refused for good (another identity, retired), never asked again.
   */
  private async bootstrapReplicas(replicas: readonly number[]): Promise<{ founded: number[]; refused: number[] }> {
    const voters = metaGroup.replicas.map((r) => r.id);
    const locations = Object.fromEntries(metaGroup.replicas.map((r) => [String(r.id), r.location]));
    const answers = await Promise.all(replicas.map((replica) => {
      const request: BootstrapRequest = { group: metaGroup.name, replica, voters, locations, owns: { default: true }, epoch: 0 };
      return this.caller.direct<{ ok?: boolean; kind?: string }>(metaGroup, replica, "/internal/bootstrap", request);
    }));
    const founded = replicas.filter((_, i) => answers[i]?.ok === true);
    const refused = replicas.filter((_, i) => answers[i]?.ok === false || answers[i]?.kind === "replicaRetired");
    return { founded, refused };
  }

  /** Reads a JSON record; undefined value when absent. */
  async read<T>(key: string): Promise<MetaResult<Versioned<T> | undefined>> {
    await this.ensureBootstrapped();
    const result = await this.io.get(metaGroup, key, "linearizable");
    if (!result.ok) return { ok: false, error: "error" in result ? result.error : { code: "unavailable", detail: "metadata moved" } };
    if (!result.value.found) return { ok: true, value: undefined };
    return { ok: true, value: { value: JSON.parse(decoder.decode(result.value.value)) as T, version: result.value.version! } };
  }

  /** Reads every record under `prefix`. */
  async list<T>(prefix: string): Promise<MetaResult<T[]>> {
    await this.ensureBootstrapped();
    const values: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.io.scan(metaGroup, { prefix, limit: 1000, ...(cursor === undefined ? {} : { cursor }) }, "linearizable");
      if (!page.ok) return { ok: false, error: "error" in page ? page.error : { code: "unavailable", detail: "metadata moved" } };
      for (const entry of page.value.entries) values.push(JSON.parse(decoder.decode(entry.value)) as T);
      cursor = page.value.cursor;
    } while (cursor !== undefined);
    return { ok: true, value: values };
  }

  /** Applies put/delete/check steps atomically; conditionFailed when any check fails. */
  async apply(steps: BatchStep[]): Promise<MetaResult<true>> {
    const applied = await this.applyVersioned(steps);
    return applied.ok ? { ok: true, value: true } : applied;
  }

  /** Like apply; answers the version each step gave its record (compare-and-set against these next). */
  async applyVersioned(steps: BatchStep[]): Promise<MetaResult<readonly number[]>> {
    await this.ensureBootstrapped();
    const result = await this.io.write(metaGroup, { type: "batch", ops: steps });
    if (!result.ok) return { ok: false, error: "error" in result ? result.error : { code: "unavailable", detail: "metadata moved" } };
    const error = applyError(result.value);
    if (error !== undefined) return { ok: false, error };
    return { ok: true, value: result.value.ok && result.value.type === "batch" ? result.value.versions : [] };
  }

  /** A put step of a JSON record. */
  static put(key: string, value: unknown, ifVersion?: number): BatchStep {
    const step = { type: "put" as const, key, value: encoder.encode(JSON.stringify(value)) };
    return ifVersion === undefined ? step : { ...step, condition: { ifVersion } };
  }

  /** The routing table of the shared keyspace (an empty table before the first group is added). */
  async routing(): Promise<MetaResult<Versioned<RoutingTable>>> {
    const result = await this.read<RoutingTable>("routing");
    if (!result.ok) return result;
    return { ok: true, value: result.value ?? { value: emptyRoutingTable, version: 0 } };
  }

  /** Replicas and locationHints for a new group of `count` replicas. */
  placement(count: number, locations?: readonly string[]): { id: number; location: string }[] {
    const pool = locations !== undefined && locations.length > 0 ? locations : this.locations;
    return Array.from({ length: count }, (_, i) => ({ id: i + 1, location: pool[i % pool.length]! }));
  }

  /**
   * Runs the idempotent steps of a "creating" group: bootstrap every replica, then one campaign,
   * whose outcome it awaits (see firstLeader).
   */
  async bootstrapGroup(record: GroupRecord): Promise<void> {
    const voters = record.replicas.map((r) => r.id);
    const locations = Object.fromEntries(record.replicas.map((r) => [String(r.id), r.location]));
    await Promise.all(record.replicas.map((replica) => {
      const request: BootstrapRequest = { group: record.name, replica: replica.id, voters, locations, owns: record.owns, epoch: record.epoch };
      return this.caller.direct(record, replica.id, "/internal/bootstrap", request);
    }));
    await this.caller.direct(record, voters[0]!, "/internal/campaign", {});
    await this.firstLeader(record, voters[0]!);
  }

  /**
   * Waits until replica `first` knows a leader after its campaign (at most firstElectionWaitMsMax;
   * not at all when it cannot be reached). The saga's next step writes the group's first spans,
   * and a request that meets a follower which voted but has not heard from the new leader yet makes
   * it campaign (it knows no leader), contesting the first election: on a loaded Deno node, whose
   * followers answer votes only once they are synced, a new group then took several terms.
   * /internal/leadership starts no election.
   */
  private async firstLeader(record: GroupRecord, first: number): Promise<void> {
    const deadline = Date.now() + firstElectionWaitMsMax;
    for (;;) {
      const reply = await this.caller.direct<LeadershipReply | { kind: string }>(record, first, "/internal/leadership", {});
      if (reply === undefined || reply.kind !== "ok") return;
      const leader = (reply as LeadershipReply).leader;
      if (leader !== 0) return void this.caller.noteLeader(record.name, leader);
      if (Date.now() + firstElectionPollMs > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, firstElectionPollMs));
    }
  }
}
