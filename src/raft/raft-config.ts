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
}
