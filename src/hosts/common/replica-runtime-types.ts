/**
 * The types a host and its callers share with a replica runtime: what a host gives a replica, and
 * what its writes and reads answer.
 */
import type { LogStore } from "../../raft/storage.ts";
import type { ConfState, Message, NodeId } from "../../raft/types.ts";
import type { KvStateMachine } from "../../kv/state-machine.ts";
import type { ApplyResult } from "../../kv/result.ts";
import type { QuietNoteStore, ReplicaTiming } from "./replica-settings.ts";

/** What a host gives a replica. */
export interface ReplicaRuntimeOptions {
  group: string;
  id: NodeId;
  logStore: LogStore;
  stateMachine: KvStateMachine;
  /** Hands a batch for one peer to the transport; must not block (the host sends asynchronously). */
  send(to: NodeId, messages: Message[]): void;
  /** Wall clock in milliseconds (for ticks and session expiry). */
  nowMs(): number;
  seed: number;
  timing?: Partial<ReplicaTiming>;
  /** Runs `work` atomically against durable storage (one SQLite transaction on a Durable Object). */
  transaction<T>(work: () => T): T;
  /** Called inside the transaction after entries were applied, so hosts persist state-machine metadata with them. */
  applied?(): void;
  /** Called inside the transaction just before the state machine's snapshot is taken (a host that holds state writes back writes them, so the snapshot reads its store alone). */
  beforeSnapshot?(): void;
  /**
   * Resolves once every transaction so far is durable (`ctx.storage.sync()` on a Durable Object).
   * With it the leader commits in groups: proposals that arrive while a flush is in flight wait in
   * the engine and the next pass persists all of them in one transaction and sends them in one
   * AppendEntries per follower. Without it every proposal is persisted and sent at once.
   */
  whenDurable?(): Promise<void>;
  /** Called after a pass the runtime ran on its own (a group commit), so the host can re-arm its timer. */
  pumped?(): void;
  /**
   * Durable note of the last quiet state: with it a replica restarted while its group was quiet
   * resumes quiet, as the follower or the leader it was (RaftConfig.resumeQuiet), and the group's
   * first request after idle needs no election.
   */
  quietNote?: QuietNoteStore;
  /** The replica lost its durable state and was started again empty and fenced (RaftConfig.recovering). */
  recovering?: boolean;
}

/** The outcome of a client write at this replica. */
export type WriteResponse =
  | { kind: "applied"; result: ApplyResult; index: number }
  | { kind: "notLeader"; leader: NodeId }
  | { kind: "busy" }
  | { kind: "unknown"; reason: string };

/** The outcome of a client read at this replica. */
export type ReadResponse<T> = { kind: "ok"; value: T } | { kind: "notLeader"; leader: NodeId } | { kind: "unknown"; reason: string };

/** The leader's view of its group's membership: the configuration and how far each member's log matches. */
export interface MembershipView {
  kind: "ok";
  /** The answering replica: the leader. */
  leader: NodeId;
  term: number;
  conf: ConfState;
  commit: number;
  /** Per member id, the highest index known to match the leader's log. */
  match: Record<string, number>;
  /** Why the change asked for was refused (confChangePending, badConfChange, ...); absent when proposed or none asked. */
  refused?: string;
}

/** How a read must be ordered. */
export type ReadConsistency = "linearizable" | "lease" | "stale";
