/**
 * The settings of one Raft replica (after etcd-io/raft's Config): timeouts in ticks, safety
 * switches, flow-control limits and what the host noted when the replica last went quiet.
 */
import type { Rng } from "../shared/rng.ts";
import type { NodeId, Term } from "./types.ts";

/** Settings of one replica. Ticks are the engine's only notion of time. */
export interface RaftConfig {
  id: NodeId;
  /** Base election timeout; the actual timeout is drawn from [electionTicks, 2 * electionTicks). */
  electionTicks: number;
  /** Ticks between leader heartbeats; must be below electionTicks. */
  heartbeatTicks: number;
  /** Seeded randomness for election timeouts. */
  rng: Rng;
  /** Highest index the state machine has applied (on restart). */
  applied?: number;
  /** Ask for pre-votes before disrupting a term (thesis 9.6). Default true. */
  preVote?: boolean;
  /** A leader steps down without contact from a quorum for an election timeout (thesis 6.2). Default true. */
  checkQuorum?: boolean;
  /** Let an idle, fully replicated leader stop heartbeating. Default true. */
  quiesce?: boolean;
  /**
   * Allow lease reads (requires checkQuorum). The clock assumption: every replica's tick runs at
   * the same rate within the margin of leaseSafetyTicks per election timeout. A replica that
   * restarts then refuses votes for one election timeout, since it may have acknowledged a lease.
   * Default false.
   */
  leaseReads?: boolean;
  /** Lease reads are shortened by this many ticks to budget for clock drift. Default 2. */
  leaseSafetyTicks?: number;
  appendBytesMax?: number;
  inflightMessagesMax?: number;
  uncommittedBytesMax?: number;
  /**
   * What the host noted durably when this replica last went quiet: its term and leader (itself
   * when it led). Used only when the durable term is still that term; see resumeQuiet.
   */
  resumeQuiet?: { term: Term; leader: NodeId };
  /**
   * This replica lost its durable state (a wiped disk) and starts again empty, its hard state
   * fenced by the host at the highest current term of every other replica of the group (so no
   * leader or candidate of a term its lost self took part in reaches it), with no message from or
   * to its lost self still in flight (a host's connections die with its process). Until it holds
   * every entry that may have been committed with its lost copy, which it knows once an append
   * from its leader carries a commit index it holds that is at an entry of the leader's term, it
   * neither votes nor campaigns, and it answers heartbeats with `reject` and its last index, so a
   * leader that counted its lost copy replicates from what it has. The host keeps this durably
   * until RawNode.recovering() says otherwise, clearing it no earlier than in the write of the
   * Ready in which it turned false (the entries that made the replica whole). Default false.
   */
  recovering?: boolean;
}
