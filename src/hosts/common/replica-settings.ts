/**
 * Settings a host gives a replica runtime: its timing, and the durable note of its last quiet
 * state (what lets a replica restarted while its group was quiet resume without an election).
 */
import type { NodeId } from "../../raft/types.ts";

/** Timing and engine settings of a replica; every replica of a group should use the same. */
export interface ReplicaTiming {
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  /** Compact the log after this many applied entries. */
  snapshotEntries: number;
  /** A client request that is not answered within this is answered "unknown outcome". */
  requestTimeoutMs: number;
  /**
   * Serve `lease` reads from the leader's lease (see docs/engine.md for the clock assumption).
   * Off by default: Durable Object clocks only move across I/O and alarms may be late, so a lease
   * read is then answered by a ReadIndex round like a linearizable one.
   */
  leaseReads: boolean;
  /**
   * Most engine ticks one tick() call fires after the host's timer ran late (default twice the
   * election timeout: a Durable Object alarm can be late, and time must still move). A host whose
   * timer runs every tickMs sets 1, as etcd drops ticks it could not deliver: then a process that
   * was not scheduled for a while steps the messages that queued meanwhile before its timers move
   * on, instead of firing an election timeout's worth of ticks first and deposing a live leader.
   * Lease reads count ticks as time, so they need the default.
   */
  ticksPerCallMax?: number;
  /** Let an idle, fully replicated group go quiet (default true); off only to measure heartbeat traffic. */
  quiesce?: boolean;
}

/** Default timing: 100 ms ticks, heartbeat every 200 ms, elections after 1 to 2 s. */
export const defaultTiming: ReplicaTiming = {
  tickMs: 100,
  electionTicks: 10,
  heartbeatTicks: 2,
  snapshotEntries: 10_000,
  requestTimeoutMs: 5_000,
  leaseReads: false,
};

/** A replica's term and leader (itself when it led) when it last went quiet. */
export interface QuietNote {
  term: number;
  leader: NodeId;
}

/** Where a host keeps the quiet note; written inside the driver pass's transaction. */
export interface QuietNoteStore {
  read(): QuietNote | undefined;
  write(note: QuietNote | undefined): void;
}

/** The engine setting that resumes a replica from its quiet note, if it has one. */
export function quietResumeOf(store: QuietNoteStore | undefined): { resumeQuiet?: QuietNote } {
  const note = store?.read();
  return note === undefined ? {} : { resumeQuiet: note };
}
