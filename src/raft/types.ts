/**
 * Data types of the Raft engine: entries, messages, hard state, configurations, snapshots and Ready.
 * Plain data only, so hosts can serialize everything the engine emits.
 */

/** A replica id inside one group: a positive safe integer; 0 means "none". */
export type NodeId = number;
/** A Raft term: a non-negative safe integer. */
export type Term = number;
/** A log index: a non-negative safe integer; index 0 is the empty log's sentinel. */
export type Index = number;

/** The id that means "no node" (no vote, no leader). */
export const noNode: NodeId = 0;

/** What an entry carries: a state-machine command, or a membership change. */
export type EntryType = "normal" | "confChange";

/** One log entry. `data` is opaque to the engine for normal entries; an encoded ConfChange otherwise. */
export interface Entry {
  term: Term;
  index: Index;
  type: EntryType;
  data: Uint8Array;
}

/** State that must be durable before any message that depends on it is sent. */
export interface HardState {
  term: Term;
  /** Candidate voted for in `term`, or noNode. */
  vote: NodeId;
  /** Highest index known committed; never decreases. */
  commit: Index;
}

/** A membership configuration; during joint consensus both `voters` and `votersOutgoing` decide. */
export interface ConfState {
  /** Voters of the incoming (or only) configuration. */
  voters: NodeId[];
  /** Voters of the outgoing configuration; empty when not joint. */
  votersOutgoing: NodeId[];
  /** Non-voting members that receive the log. Disjoint from both voter sets. */
  learners: NodeId[];
  /** Outgoing voters that become learners when the joint configuration is left. */
  learnersNext: NodeId[];
  /** Whether the leader proposes leaving the joint configuration by itself once it is applied. */
  autoLeave: boolean;
}

/** One step of a membership change. */
export interface ConfChangeSingle {
  type: "addVoter" | "removeVoter" | "addLearner";
  node: NodeId;
}

/**
 * A membership change, always carried out by joint consensus (thesis 4.3).
 * An empty `changes` list means "leave the current joint configuration".
 */
export interface ConfChange {
  changes: ConfChangeSingle[];
}

/** Where a snapshot sits in the log and the configuration in force at that point. */
export interface SnapshotMeta {
  index: Index;
  term: Term;
  conf: ConfState;
}

/** A state-machine snapshot as stored; `data` is the state machine's own encoding. */
export interface Snapshot {
  meta: SnapshotMeta;
  data: Uint8Array;
}

/** One bounded piece of a snapshot in flight (InstallSnapshot, thesis 5.3 / figure 5.3). */
export interface SnapshotChunk {
  meta: SnapshotMeta;
  /** Byte offset of `data` within the whole snapshot. */
  offset: number;
  /** Size of the whole snapshot in bytes. */
  totalBytes: number;
  data: Uint8Array;
}

/** Every message kind the engine sends or accepts. Local kinds never cross the network. */
export type MessageType =
  | "app"
  | "appResp"
  | "vote"
  | "voteResp"
  | "preVote"
  | "preVoteResp"
  | "heartbeat"
  | "heartbeatResp"
  | "snap"
  | "snapResp"
  | "prop"
  | "readIndex"
  | "readIndexResp"
  | "transferLeader"
  | "timeoutNow"
  | "wake";

/**
 * A Raft message. Every field is always present (a fixed shape keeps engines fast); fields a kind
 * does not use hold their zero value. Any message may be lost, duplicated, reordered or delayed.
 */
export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: Term;
  /** app: term of the entry at `index`; vote: candidate's last log term; appResp reject: hint term; voteResp/preVoteResp: term of the entry at `commit`. */
  logTerm: Term;
  /** app: index preceding `entries`; appResp: highest matched index or rejected index; vote: last index. */
  index: Index;
  entries: Entry[];
  commit: Index;
  reject: boolean;
  /** appResp reject: the follower's best guess of where the logs agree (fast backtracking); heartbeatResp: its last index. */
  rejectHint: Index;
  /** ReadIndex request context; carried through heartbeats for leadership confirmation. */
  context: string;
  /** snap: the chunk being installed. */
  snapshot: SnapshotChunk | null;
  /** heartbeat: the leader is going quiet; a caught-up follower may stop its election timer. */
  quiesce: boolean;
  /** vote/preVote: sent because of leadership transfer, so leases do not block it. */
  transfer: boolean;
  /** readIndex: the caller accepts a lease read (served without a heartbeat round when the lease holds). */
  lease: boolean;
}

/** A read that may be served once the local state machine has applied `index` (thesis 6.4). */
export interface ReadState {
  index: Index;
  context: string;
}

/** A replica's role. */
export type Role = "follower" | "preCandidate" | "candidate" | "leader";

/** Volatile state worth telling the host about when it changes. */
export interface SoftState {
  leader: NodeId;
  role: Role;
  quiesced: boolean;
}

/**
 * What the host must do, in this order (the driver in driver.ts is the one place that does it):
 *  1. persist `snapshot` (if any), then `entries`, then `hardState`: one atomic write;
 *  2. send `messages`;
 *  3. apply `snapshot` to the state machine, then `committedEntries` in order;
 *  4. call `advance()`.
 * `readStates` are answered once the state machine has applied their index.
 */
export interface Ready {
  softState: SoftState | null;
  hardState: HardState | null;
  entries: Entry[];
  snapshot: Snapshot | null;
  messages: Message[];
  committedEntries: Entry[];
  readStates: ReadState[];
}

/** Why a proposal was not accepted. */
export type ProposalError =
  | "noLeader"
  | "notLeader"
  | "transferring"
  | "tooLarge"
  | "busy"
  | "confChangePending"
  | "badConfChange";

/** Result of propose / proposeConfChange: accepted for replication, or refused with a reason. */
export type ProposalResult = { ok: true } | { ok: false; error: ProposalError; leader: NodeId };

/** Replication state of one follower as the leader sees it. */
export type ProgressState = "probe" | "replicate" | "snapshot";

/** A point-in-time view of one replica, for health reporting and tests. */
export interface Status {
  id: NodeId;
  term: Term;
  vote: NodeId;
  commit: Index;
  applied: Index;
  lastIndex: Index;
  firstIndex: Index;
  leader: NodeId;
  role: Role;
  quiesced: boolean;
  conf: ConfState;
  /** Leader only: per-follower replication progress. */
  progress: Record<number, { match: Index; next: Index; state: ProgressState; recentActive: boolean }>;
  leadTransferee: NodeId;
  /** Leader only: it took the role through a leadership transfer (someone chose it), not by winning an election after a timeout. */
  leadsByTransfer: boolean;
  /** It lost its durable state and neither votes nor campaigns until it caught up (RaftConfig.recovering). */
  recovering: boolean;
}
