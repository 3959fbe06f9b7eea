/**
 * One replica of one group as a host runs it: the engine, the shared driver loop, the KV state
 * machine, and the bookkeeping that turns client requests into proposals and reads and back into
 * answers. Runtime-agnostic: hosts (Durable Objects, Deno) supply storage, transport and a clock.
 * Single-threaded by construction: every method runs the driver synchronously to completion, so
 * two events can never be inside the driver at once; only the callers await.
 */
import { createRng } from "../../shared/rng.ts";
import { RawNode } from "../../raft/raw-node.ts";
import { drive, type DriverPorts } from "../../raft/driver.ts";
import type { ConfChange, ConfState, Entry, Message, NodeId, Status } from "../../raft/types.ts";
import type { KvStateMachine, ScanPage, ScanRequest } from "../../kv/state-machine.ts";
import type { KvRecord } from "../../kv/store.ts";
import type { ExportPage } from "../../kv/range-apply.ts";
import type { IntentFound, KeyRefusal } from "../../kv/result.ts";
import type { RangeOwnership } from "../../kv/ownership.ts";
import type { Span } from "../../kv/span.ts";
import type { Command } from "../../kv/command.ts";
import { encodeCommand } from "../../kv/command-codec.ts";
import { validateCommand } from "../../kv/command.ts";
import { WaiterBook, type PassAnswers } from "./waiters.ts";
import { defaultTiming, quietResumeOf, type ReplicaTiming } from "./replica-settings.ts";
import { ReplicaMetrics, type ReplicaMetricsReport } from "./replica-metrics.ts";
import { FollowerLag } from "./follower-lag.ts";
import { logEvent } from "../../router/log.ts";
import type { MembershipView, ReadConsistency, ReadResponse, ReplicaRuntimeOptions, WriteResponse } from "./replica-runtime-types.ts";

export { defaultTiming, type QuietNote, type QuietNoteStore, type ReplicaTiming } from "./replica-settings.ts";

export type { MembershipView, ReadConsistency, ReadResponse, ReplicaRuntimeOptions, WriteResponse } from "./replica-runtime-types.ts";

/** A replica of one group. */
export class ReplicaRuntime {
  readonly group: string;
  readonly id: NodeId;
  readonly node: RawNode;
  readonly timing: ReplicaTiming;
  private readonly options: ReplicaRuntimeOptions;
  private readonly stateMachine: KvStateMachine;
  private readonly waiters: WaiterBook;
  private readonly outbox = new Map<NodeId, Message[]>();
  private lastTickMs: number;
  private readCounter = 0;
  private leading = false;
  private knownLeader: NodeId = 0;
  /** The engine was quiet at the last soft state seen (the quiet note says so durably). */
  private quiet = false;
  /** A transaction was written and is not yet known durable (only with options.whenDurable). */
  private flushing = false;
  /** Proposals wait in the engine for the flush in flight to finish (group commit). */
  private proposalsWaiting = false;
  /** Proposals taken and storage transactions run since start (reported in status()). */
  private readonly counters = { proposals: 0, transactions: 0 };
  /** Counters and latency histograms for GET /metrics (reported in status()). */
  readonly metrics: ReplicaMetrics;
  /** Leader only: how long each follower has been behind (for lag in seconds). */
  private readonly followerLag = new FollowerLag();

  constructor(options: ReplicaRuntimeOptions) {
    this.options = options;
    this.group = options.group;
    this.id = options.id;
    this.stateMachine = options.stateMachine;
    const t = (this.timing = { ...defaultTiming, ...options.timing });
    this.node = new RawNode(
      {
        id: options.id,
        electionTicks: t.electionTicks,
        heartbeatTicks: t.heartbeatTicks,
        rng: createRng(options.seed),
        applied: options.logStore.firstIndex() - 1, // replay from the snapshot; the state machine skips what it has
        leaseReads: t.leaseReads,
        quiesce: t.quiesce ?? true,
        recovering: options.recovering === true,
        ...quietResumeOf(options.quietNote),
      },
      options.logStore,
    );
    const brief = this.node.brief();
    this.leading = brief.role === "leader";
    this.knownLeader = brief.leader;
    this.quiet = brief.quiesced;
    this.lastTickMs = options.nowMs();
    // Elections, leader changes and snapshots are logged at info (quiet at the default level).
    this.metrics = new ReplicaMetrics(options.nowMs, (event, fields) => logEvent("info", event, { group: this.group, replica: this.id, term: this.node.brief().term, ...fields }));
    // A start from a quiet note takes up the role and leader it recorded: a resume, not an election.
    if (brief.quiesced && brief.leader !== 0) this.metrics.resumed(brief.role, brief.leader, brief.term);
    this.waiters = new WaiterBook();
    this.pump();
  }

  /** Steps a batch from a peer (`[]`: runs the driver over what stepOnly took); returns the messages for `replyTo` produced meanwhile (they ride on the response). */
  receive(messages: Message[], replyTo?: NodeId): Message[] {
    this.stepOnly(messages);
    return this.pump(replyTo);
  }

  /** Steps a batch without a driver pass, for a host that would send nothing the pass produces before it calls receive([]) anyway (a Deno follower while its node syncs). */
  stepOnly(messages: Message[]): void {
    for (const m of messages) this.node.step(m);
  }

  /** Advances logical time to the wall clock; hosts call it from their timer (a DO alarm). */
  tick(): void {
    const now = this.options.nowMs();
    if (this.quiet && !this.node.brief().quiesced) this.lastTickMs = now; // woken by input stepped since the last pass (stepOnly): see pump
    const elapsed = Math.floor((now - this.lastTickMs) / this.timing.tickMs);
    const ticks = Math.min(elapsed, this.timing.ticksPerCallMax ?? this.timing.electionTicks * 2); // after a long sleep a few fire every timer; more only burn CPU
    for (let i = 0; i < ticks; i++) this.node.tick();
    if (elapsed > 0) this.lastTickMs = ticks === elapsed ? this.lastTickMs + elapsed * this.timing.tickMs : now;
    this.pump();
    this.followerLag.note(this.id, this.leading, this.leading ? this.node.status() : { commit: 0, progress: {} }, now);
    this.waiters.expire(now, (reason) => ({ kind: "unknown", reason }));
  }

  /** When the host should call tick() next, or null when the replica is quiet and waits for nothing. */
  nextTickAtMs(): number | null {
    if (this.node.brief().quiesced && this.waiters.size === 0) return null;
    return this.lastTickMs + this.timing.tickMs;
  }

  /** Proposes a command (at the leader) and resolves once it is applied here, with its result. */
  write(command: Command): Promise<WriteResponse> {
    const invalid = validateCommand(command);
    if (invalid !== undefined) return Promise.resolve({ kind: "applied", result: invalid, index: 0 });
    const brief = this.node.brief();
    if (brief.role !== "leader") return Promise.resolve(this.redirect(brief.leader));
    const proposal = this.node.propose(encodeCommand(command));
    if (!proposal.ok) {
      if (proposal.error === "busy") return Promise.resolve({ kind: "busy" });
      return Promise.resolve({ kind: "notLeader", leader: proposal.leader });
    }
    const index = this.node.brief().lastIndex;
    const promise = this.waiters.waitForEntry<WriteResponse>(index, brief.term, this.deadline());
    this.counters.proposals++;
    this.metrics.proposed(index);
    if (this.flushing) this.proposalsWaiting = true; // joins the next transaction (group commit)
    else this.pump();
    return promise;
  }

  /** Reads one key with the requested consistency; a key this group does not serve at the read's index gives its refusal. */
  get(key: string, consistency: ReadConsistency): Promise<ReadResponse<{ ok: true; record: KvRecord | undefined } | KeyRefusal | IntentFound>> {
    return this.read(consistency, () => this.stateMachine.read(key));
  }

  /** Reads one page of a scan with the requested consistency, when this group serves the whole range. */
  scan(request: ScanRequest, consistency: ReadConsistency): Promise<ReadResponse<{ ok: true; page: ScanPage } | KeyRefusal | IntentFound>> {
    return this.read(consistency, () => this.stateMachine.scanOwned(request));
  }

  /** One page of a span frozen here by `saga` (linearizable: the freeze is applied before it is read). */
  exportRange(saga: string, span: Span, cursor: string | undefined): Promise<ReadResponse<ExportPage | undefined>> {
    return this.read("linearizable", () => this.stateMachine.exportRange(saga, span, cursor));
  }

  /** The spans this group serves, after a ReadIndex round (undefined: never given ranges); a move's route step reads it. */
  servedSpans(): Promise<ReadResponse<readonly Span[] | undefined>> {
    return this.read("linearizable", () => this.stateMachine.ownership?.spans);
  }

  /** The median key this group serves (where an even split would cut it), or undefined when it holds fewer than two keys. */
  medianKey(): Promise<ReadResponse<string | undefined>> {
    return this.read("linearizable", () => this.stateMachine.medianKey());
  }

  /** Starts an election here now (bootstrap, tests). */
  campaign(): void {
    this.node.campaign();
    this.pump();
  }

  /**
   * Starts an election when this replica knows no leader and is not a candidate already: what a
   * client request or a health check does at a leaderless replica (a group woken from hibernation,
   * one whose leader died while it was quiet) instead of waiting for its election timeout; PreVote
   * keeps that harmless when a leader does exist. A candidate won a pre-vote round and awaits the
   * votes of its term: starting over would discard them and take the next term (a new group's
   * first election, met by the router's first write at replica 1, took two terms). Its election
   * timer starts over an election that fails, as for any candidate.
   */
  campaignIfLeaderless(): void {
    const brief = this.node.brief();
    if (brief.leader !== 0 || brief.role === "leader" || brief.role === "candidate" || !this.node.mayCampaignOnDemand()) return;
    this.campaign();
  }

  /** Asks the leader to hand leadership to `to`. */
  transferLeader(to: NodeId): void {
    this.node.transferLeader(to);
    this.pump();
  }

  /** Proposes a membership change (at the leader). */
  changeMembership(change: ConfChange): { ok: boolean; error?: string; leader: NodeId } {
    const result = this.node.proposeConfChange(change);
    this.pump();
    return result.ok ? { ok: true, leader: this.id } : { ok: false, error: result.error, leader: result.leader };
  }

  /**
   * At the leader: proposes `change` when one is given (joint consensus; one change at a time) and
   * answers the membership as it stands. Elsewhere "not leader" (a replica that knows no leader
   * campaigns, as for any client request).
   */
  membership(change: ConfChange | undefined): MembershipView | { kind: "notLeader"; leader: NodeId } {
    const brief = this.node.brief();
    if (brief.role !== "leader") return this.redirect(brief.leader);
    let refused: string | undefined;
    if (change !== undefined) {
      const proposal = this.node.proposeConfChange(change);
      if (!proposal.ok) refused = proposal.error;
      this.pump();
    }
    const status = this.node.status();
    const match = Object.fromEntries(Object.entries(status.progress).map(([id, progress]) => [id, progress.match]));
    return { kind: "ok", leader: this.id, term: status.term, conf: status.conf, commit: status.commit, match, ...(refused === undefined ? {} : { refused }) };
  }

  /** A peer could not be reached: restart its pipeline. */
  unreachable(peer: NodeId): void {
    this.node.reportUnreachable(peer);
  }

  /** Proposals this replica took as leader since it started (a cheap counter for load reports). */
  get proposalsTaken(): number {
    return this.counters.proposals;
  }

  /** Whether this replica's state machine holds any intent or transaction record. */
  get holdsTransactions(): boolean {
    return this.stateMachine.holdsTransactions;
  }

  /** The intents and transaction records this replica's state machine holds (the sweep's work). */
  transactions(): ReturnType<KvStateMachine["transactions"]> {
    return this.stateMachine.transactions();
  }

  /** What the group owns, as of the last applied entry here (undefined: never given ranges). */
  get ownership(): RangeOwnership | undefined {
    return this.stateMachine.ownership;
  }

  /** Engine status plus the state machine's applied index. */
  status(): Status & { group: string; stateMachineApplied: number; pendingRequests: number; proposals: number; transactions: number; metrics: ReplicaMetricsReport; followerLagMs: Record<number, number>; txnIntents: number; txnRecords: number } {
    const status = this.node.status();
    const held = this.stateMachine.transactions();
    return {
      ...status,
      txnIntents: held.intents.length, txnRecords: held.records.length,
      followerLagMs: this.followerLag.lagMs(this.id, this.leading, status, this.options.nowMs()),
      group: this.group, stateMachineApplied: this.stateMachine.appliedIndex,
      pendingRequests: this.waiters.size,
      ...this.counters,
      metrics: this.metrics.report(),
    };
  }

  /** Fails every waiting request (the host is shutting down or resetting). */
  abandon(reason: string): void {
    this.waiters.expire(Number.POSITIVE_INFINITY, () => ({ kind: "unknown", reason }));
  }

  private read<T>(consistency: ReadConsistency, perform: () => T): Promise<ReadResponse<T>> {
    if (consistency === "stale") return Promise.resolve({ kind: "ok", value: perform() });
    const brief = this.node.brief();
    if (brief.role !== "leader" && brief.leader === 0) return Promise.resolve(this.redirect(0));
    const context = `${this.id}:${++this.readCounter}`;
    const promise = this.waiters.waitForRead(context, this.deadline(), perform);
    this.node.readIndex(context, { lease: consistency === "lease" });
    this.pump();
    return promise;
  }

  /**
   * Answers "not leader". With no leader known (a group woken from hibernation, or one whose
   * leader died while it was quiet) it also starts an election at once, unless one is under way
   * here (see campaignIfLeaderless).
   */
  private redirect(leader: NodeId): { kind: "notLeader"; leader: NodeId } {
    if (leader === 0) this.campaignIfLeaderless();
    else {
      // A quiet follower may believe in a leader that died while the group was idle: wake it so
      // its election timer runs again (and it tells the leader, which wakes too if it is alive).
      this.node.wake();
      this.pump();
    }
    return { kind: "notLeader", leader };
  }

  private deadline(): number {
    return this.options.nowMs() + this.timing.requestTimeoutMs;
  }

  /** Runs the driver to quiescence inside one storage transaction, then hands batches to the transport. */
  private pump(replyTo?: NodeId): Message[] {
    // Time stands still for a quiet replica (its host sets no timer). One that the step just before
    // this pass woke starts its timers from now: catching up the ticks of its quiet spell would fire
    // a follower's election timer at once and make it campaign against its leader on every wake.
    if (this.quiet && !this.node.brief().quiesced) this.lastTickMs = this.options.nowMs();
    let appliedAny = false;
    // No storage transaction when the engine has nothing to do (most reads, idle ticks).
    if (this.node.hasReady()) {
      // Writes applied in the pass are answered only once it is stored: a pass that throws (its
      // host's write-back, say, after the applies) leaves them waiting, and the host's abandon()
      // answers them "unknown", never "applied" for a write the rollback took back.
      // Likewise a lost leadership fails the requests that wait only after the pass's applied
      // writes were answered, not before (a leader removed by the change it applies).
      const pass: PassAnswers = { answered: [], leadershipLost: false };
      this.options.transaction(() => {
        drive(this.node, this.ports((applied) => (appliedAny ||= applied), pass), { snapshotEntries: this.timing.snapshotEntries });
        if (appliedAny) this.options.applied?.();
      });
      this.waiters.settle(pass);
      this.metrics.committed(this.node.brief().commit);
      this.counters.transactions++;
      this.proposalsWaiting = false; // whatever waited was persisted by this pass
      this.watchFlush();
    }
    this.waiters.applied(this.node.brief().applied);
    let replies: Message[] = [];
    for (const [to, messages] of this.outbox) {
      if (to === replyTo) replies = messages;
      else this.options.send(to, messages);
    }
    this.outbox.clear();
    return replies;
  }

  /** After a transaction, notes that a flush is in flight and runs the waiting proposals once it is durable. */
  private watchFlush(): void {
    const whenDurable = this.options.whenDurable;
    if (whenDurable === undefined || this.flushing || !this.leading) return; // only a leader takes proposals
    this.flushing = true;
    const durable = () => {
      this.flushing = false;
      if (!this.proposalsWaiting) return;
      try {
        this.pump();
      } catch {
        // The host's transaction() saw the pass fail and resets the replica; nobody awaits this
        // callback, so rethrowing would only make an unhandled rejection (fatal under Deno).
        return;
      }
      this.options.pumped?.();
    };
    whenDurable().then(durable, durable);
  }

  private ports(noteApplied: (applied: boolean) => void, pass: PassAnswers): DriverPorts {
    const answered = pass.answered;
    const machine = this.stateMachine;
    return {
      store: this.options.logStore,
      send: (messages) => {
        this.metrics.sending(messages);
        for (const m of messages) {
          const queue = this.outbox.get(m.to);
          if (queue === undefined) this.outbox.set(m.to, [m]);
          else queue.push(m);
        }
      },
      apply: (entry: Entry) => {
        noteApplied(true);
        if (entry.index <= machine.appliedIndex) return; // durable state already has it (replay after restart)
        this.metrics.applied(entry.index, entry.data.byteLength > 0);
        if (entry.data.byteLength === 0) return void answered.push([entry, undefined]); // a leader's no-op
        answered.push([entry, machine.apply(entry.index, entry.data)]);
      },
      restore: (snapshot) => {
        const restored = machine.restore(snapshot.data);
        if (!restored.ok) throw new Error(`snapshot from the leader is unreadable: ${restored.reason}`);
        this.metrics.snapshotInstalled(snapshot.meta.index);
        noteApplied(true);
      },
      takeSnapshot: () => {
        this.options.beforeSnapshot?.();
        return machine.snapshot();
      },
      readStates: (states) => this.waiters.readStates(states),
      confChanged: (_conf: ConfState, entry: Entry) => void answered.push([entry, undefined]),
      softState: (state) => {
        if (state.quiesced !== this.quiet) {
          this.quiet = state.quiesced;
          this.options.quietNote?.write(state.quiesced ? { term: this.node.brief().term, leader: state.leader } : undefined);
        }
        const wasLeading = this.leading;
        const leaderBefore = this.knownLeader;
        this.leading = state.role === "leader";
        this.knownLeader = state.leader;
        this.metrics.softState(state.role, state.leader, this.node.brief().term);
        // Lost leadership: nothing asked of us will be answered. A follower whose leader changed:
        // reads it forwarded to the old leader will not be answered either; fail them now so the
        // router retries at once instead of waiting for the deadline.
        if ((wasLeading && !this.leading) || (!this.leading && leaderBefore !== state.leader)) pass.leadershipLost = true;
      },
    };
  }
}
