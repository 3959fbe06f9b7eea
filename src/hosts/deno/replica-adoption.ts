/**
 * Creates the replicas placed on this node that have no rows here, when a peer's messages name
 * them or a bootstrap request arrives for them. Either the node was down when the group was
 * created, or it lost its data directory (a disk replaced, a directory wiped) and came back empty
 * under the same id. The second is Raft's amnesia: a replica that forgot its vote and the entries
 * it acknowledged can help elect a leader that lacks a committed entry. So the node first asks the
 * group's members for their term and last index. While no member's log went past the bootstrap
 * entry, no leader was ever elected (a leader appends an entry at once), so no vote of a lost self
 * counted and it acknowledged nothing. A term above 1 says nothing here: an election that failed
 * (split votes, a lost answer) leaves every log at the bootstrap entry, and fencing then would
 * only take votes from a group that has none to spare. Once a member's log went past it, the
 * replica starts empty at the highest term and recovering (RaftConfig.recovering): it votes for
 * nobody until a leader caught it up. What a lost self sent or was sent died with its process's
 * connections.
 *
 * - Messages, with no bootstrap: they wait while the group has not gone past its bootstrap (its
 *   bootstrap request makes the replica; Raft resends), and while any member does not answer (a
 *   lost self's terms may be known only there), the survey tried again at most once a second.
 * - A bootstrap request (a group's creation, every router's bootstrap of the metadata group): it
 *   founds the replica unless the group went past its bootstrap. It does not wait for members that
 *   do not answer (a node down must not stop groups being created), so a lost self whose group's
 *   only sign of progress is on a member that is down comes back founding (docs/deno.md, Durability).
 */
import { logEvent } from "../../router/log.ts";
import type { BootstrapRequest, LeadershipReply } from "../../multiraft/protocol.ts";
import type { ReplicaAnswer } from "../common/replica-requests.ts";
import type { NodeReplica } from "./node-replica.ts";

/** How often, at most, the adoption of one replica is tried for its messages while some member does not answer. */
const retryMs = 1_000;
/**
 * How long a member is asked before it counts as unreachable, and how often it is asked again
 * meanwhile (the first answer to any of the calls counts): a node just started lacks connections,
 * in one direction or both, so a call may be refused (asked again after askAgainMs) or its answer
 * lost (asked again after askPendingAgainMs while the call waits); a busy node answers late.
 */
const unreachableWaitMs = 5_000;
const askAgainMs = 300;
const askPendingAgainMs = 1_000;
/** How long a bootstrap request waits for a member's answer before leaving it out, in milliseconds. */
const bootstrapAskWaitMs = 1_000;

/** What adoption needs from its node. */
export interface ReplicaAdoptionOptions {
  /** Calls a replica wherever it lives (ClusterNode.call). */
  call(group: string, replica: number, path: string, body: unknown): Promise<ReplicaAnswer>;
  /** The replica here: the one the node has (it may have been made meanwhile), or a new one without rows. */
  replicaAt(group: string, replica: number): NodeReplica;
  /** The replica the node has now, if any (one reopened after a failed pass is a new object). */
  replicaHere(group: string, replica: number): NodeReplica | undefined;
}

/** What the other members of a group said: the highest term, whether any went past the bootstrap, how many answered, the group's identity, and who to wake once the replica is adopted. */
interface Survey {
  term: number;
  progressed: boolean;
  answered: number;
  identity: Pick<BootstrapRequest, "owns" | "epoch">;
  /** Members that lead, or follow the replica being adopted (its lost self) as their leader: woken with /internal/wake once it is adopted. */
  wake: number[];
}

/** The adoptions of one node. */
export class ReplicaAdoption {
  private readonly options: ReplicaAdoptionOptions;
  /** When each adoption for messages (by `group/replica`) was last tried; one under way or tried within retryMs is not started again. */
  private readonly tried = new Map<string, number>();
  /** The quiet followers (by `group/replica`) whose leader is being asked whether it still leads (peerConnected). */
  private readonly confirming = new Set<string>();

  constructor(options: ReplicaAdoptionOptions) {
    this.options = options;
  }

  /** Replica `from` of `group` sent messages to `replica`, placed here and without rows: adopt it recovering once the group's terms are known and it went past its bootstrap. */
  request(group: string, replica: number, from: number): void {
    const key = `${group}/${replica}`;
    if (Date.now() - (this.tried.get(key) ?? Number.NEGATIVE_INFINITY) < retryMs) return;
    this.tried.set(key, Number.POSITIVE_INFINITY); // under way
    this.survey(group, replica, [from], { waitMs: unreachableWaitMs, leaveOut: false })
      .then((survey) => {
        // A new group: its bootstrap request makes the replica (the messages wait for it; Raft resends).
        if (survey === undefined || !survey.progressed) return;
        // Its identity as the members hold it (what the group was created to own, its epoch); its locations are not used on Deno.
        if (this.options.replicaAt(group, replica).adopt({ group, replica, locations: {}, ...survey.identity }, survey.term)) this.adopted(group, replica, survey);
      })
      .catch(() => undefined)
      .finally(() => this.tried.set(key, Date.now()));
  }

  /**
   * Node `peer` connected (it started, maybe with an empty data directory, or came back): the
   * groups that may have lost a replica there are woken. A quiet leader here with a replica there
   * heartbeats again (wakeQuietLeader). A quiet follower here whose leader is there asks that
   * leader whether it still leads, and is woken when it does not say so (it has no rows: lost
   * with the data directory; it stepped down; it does not answer within unreachableWaitMs): its
   * election timer runs, the followers elect a leader, and that leader's messages get the lost
   * replica adopted. Without this, a quiet group whose leader was lost would trust it until its
   * next request. A follower whose leader still leads is left quiet, so a node's reconnection does
   * not cost its quiet groups an election. A pass that fails is caught per replica: this runs in a
   * socket's listener, and the other groups go on.
   */
  peerConnected(peer: number, replicas: Iterable<NodeReplica>, nodeOf: (group: string, replica: number) => number): void {
    for (const replica of replicas) {
      try {
        if (wakeQuietLeader(peer, replica, nodeOf)) continue;
      } catch {
        continue; // the pass was rolled back and the replica is being reopened
      }
      const brief = replica.runtime?.node.brief();
      const identity = replica.identity;
      if (brief === undefined || identity === undefined || brief.role !== "follower" || !brief.quiesced || brief.leader === 0) continue;
      if (nodeOf(identity.group, brief.leader) === peer) this.confirmLeader(identity.group, identity.replica, brief.leader, brief.term);
    }
  }

  /** Asks quiet follower `id`'s `leader` whether it still leads in `term`; wakes the follower unless it does (peerConnected). */
  private confirmLeader(group: string, id: number, leader: number, term: number): void {
    const key = `${group}/${id}`;
    if (this.confirming.has(key)) return;
    this.confirming.add(key);
    this.ask(group, leader, unreachableWaitMs)
      .then((answer) => {
        const reply = (answer?.body ?? {}) as Partial<LeadershipReply>;
        if (answer?.status === 200 && reply.kind === "ok" && reply.role === "leader" && reply.term === term) return;
        const replica = this.options.replicaHere(group, id); // looked up again: it may have been reopened meanwhile
        const now = replica?.runtime?.node.brief();
        // Woken meanwhile (a message from its group), or it follows someone else now: nothing to do.
        if (now === undefined || !now.quiesced || now.leader !== leader || now.term !== term) return;
        replica!.wake();
      })
      .catch(() => undefined) // a failed pass: the replica is being reopened
      .finally(() => this.confirming.delete(key));
  }

  /**
   * A bootstrap request for a replica placed here without rows. When its group went past its
   * bootstrap as far as the members that answered within bootstrapAskWaitMs know, the replica is
   * adopted recovering; otherwise `found` founds it as asked (a replica added to a running group,
   * `join`, starts empty as a learner, which votes for nobody, and is founded as asked too). When
   * too few members answered for the replica and them to be a majority (a node just started, its
   * connections not up yet), the answer is 503 "uninitialized", for the bootstrap to be asked again.
   */
  async bootstrap(request: BootstrapRequest, found: (request: BootstrapRequest) => Promise<ReplicaAnswer>): Promise<ReplicaAnswer> {
    const { group, replica, voters } = request;
    if (!Array.isArray(voters) || !voters.every((id) => Number.isInteger(id) && id > 0)) return { status: 400, body: { kind: "badRequest" } };
    if (request.join === true) return found(request);
    const survey = await this.survey(group, replica, voters, { waitMs: bootstrapAskWaitMs, leaveOut: true });
    const others = voters.filter((id) => id !== replica).length;
    if (survey === undefined || survey.answered < Math.floor((others + 1) / 2)) return { status: 503, body: { kind: "uninitialized" } };
    if (!survey.progressed || !this.options.replicaAt(group, replica).adopt(request, survey.term)) return found(request);
    this.adopted(group, replica, survey);
    return { status: 200, body: { ok: true } };
  }

  /**
   * Asks `known` members, then every member they name, for their term and last index. A member that
   * does not answer within `waitMs` is left out with `leaveOut`, else the survey is undefined.
   */
  private async survey(group: string, replica: number, known: readonly number[], patience: { waitMs: number; leaveOut: boolean }): Promise<Survey | undefined> {
    const asked = new Set<number>([replica]);
    const survey: Survey = { term: 0, progressed: false, answered: 0, identity: { owns: { default: true }, epoch: 0 }, wake: [] };
    for (let next = known.filter((id) => id !== replica); next.length > 0;) {
      for (const id of next) asked.add(id);
      const replies = await Promise.all(next.map((id) => this.ask(group, id, patience.waitMs)));
      const named: number[] = [];
      for (const [i, answer] of replies.entries()) {
        const reply = (answer?.body ?? {}) as Partial<Omit<LeadershipReply, "kind">> & { kind?: string };
        if (reply.kind === "uninitialized") {
          survey.answered++; // no rows there either: it knows no term
          continue;
        }
        const usable = answer?.status === 200 && reply.kind === "ok" && typeof reply.term === "number" && typeof reply.lastIndex === "number" && Array.isArray(reply.members);
        if (!usable) {
          if (patience.leaveOut) continue;
          return undefined; // unreachable, or an answer that says nothing
        }
        const { term, lastIndex, members, owns, epoch, role, leader } = reply as LeadershipReply;
        survey.answered++;
        if (role === "leader" || leader === replica) survey.wake.push(next[i]!);
        survey.term = Math.max(survey.term, term);
        if (lastIndex > 1 && !survey.progressed && owns !== undefined) survey.identity = { owns, epoch: epoch ?? 0 };
        survey.progressed ||= lastIndex > 1;
        for (const member of members) if (!asked.has(member)) named.push(member);
      }
      next = [...new Set(named)];
    }
    return survey;
  }

  /** A member's leadership reply; undefined when no call is answered within `waitMs`. */
  private ask(group: string, member: number, waitMs: number): Promise<ReplicaAnswer | undefined> {
    return new Promise((resolve) => {
      const finish = (answer: ReplicaAnswer | undefined) => {
        clearInterval(again);
        clearTimeout(giveUp);
        resolve(answer); // later calls find it settled
      };
      let failed = false;
      let sentMs = 0;
      const once = () => {
        [failed, sentMs] = [false, Date.now()];
        void this.options.call(group, member, "/internal/leadership", {}).then(finish, () => (failed = true));
      };
      // Again soon after a call failed (refused: no connection yet); while one waits, only now and then (its answer may have been lost).
      const again = setInterval(() => failed || Date.now() - sentMs >= askPendingAgainMs ? once() : undefined, askAgainMs);
      const giveUp = setTimeout(() => finish(undefined), waitMs);
      once();
    });
  }

  /** Replica `replica` of `group` was adopted: logged, and the members that lead, or still follow its lost self, are woken (/internal/wake). */
  private adopted(group: string, replica: number, survey: Survey): void {
    // Info, not a warning: a healthy new cluster adopts too, when a metadata replica's bootstrap
    // arrives after the other two elected a leader; the amnesia case cannot be told apart here.
    logEvent("info", "replicaAdopted", { group, replica, fenceTerm: survey.term, detail: "no rows here for a group that went past its bootstrap (a late bootstrap, a node down when the group was created, or a lost data directory): started empty, votes for nobody until a leader caught it up" });
    // A leader that is quiet, or awake but idle, would otherwise leave the replica empty until the
    // group's next write: its progress says the replica is caught up, and a leader that went quiet
    // at the heartbeat that got the replica adopted sends nothing more.
    for (const member of survey.wake) void this.options.call(group, member, "/internal/wake", { lost: replica }).catch(() => undefined);
  }
}

/**
 * A quiet group led here that has a replica on `peer` (which just connected) heartbeats again: a
 * replica lost there is then adopted and caught up now, not at its group's next request, which for
 * an idle group may never come (until then the group has one copy fewer than it seems to have). A
 * group with nothing lost goes quiet again after a round of heartbeats (as CockroachDB wakes its
 * quiet ranges when a node's liveness changes). Returns whether it was woken.
 */
function wakeQuietLeader(peer: number, replica: NodeReplica, nodeOf: (group: string, replica: number) => number): boolean {
  const runtime = replica.runtime;
  const group = replica.identity?.group;
  if (runtime === undefined || group === undefined) return false;
  const brief = runtime.node.brief();
  if (brief.role !== "leader" || !brief.quiesced) return false;
  const { voters, learners } = runtime.node.status().conf;
  const there = voters.concat(learners).filter((id) => nodeOf(group, id) === peer);
  if (there.length === 0) return false;
  // Probed again: its progress says caught up, so the woken leader would go quiet at its first
  // heartbeat, before a lost replica there was adopted; a probe keeps it awake until that replica answers.
  for (const id of there) runtime.unreachable(id);
  replica.wake();
  return true;
}
