/**
 * Follower and candidate behaviour: accepting appends with fast-backtracking hints, heartbeats
 * (including the leader's quiesce notice), chunked snapshots, and counting votes.
 */
import { becomeFollower, becomeLeader, campaign, hup, message, type Raft } from "./raft.ts";
import { concatBytes } from "../shared/bytes.ts";
import { noNode, type Message, type Snapshot } from "./types.ts";

/** Role step for a follower. */
export function stepFollower(raft: Raft, m: Message): void {
  switch (m.type) {
    case "prop":
    case "transferLeader":
    case "readIndex":
      if (raft.leader !== noNode) raft.forward(raft.leader, m);
      return;
    case "app":
    case "heartbeat":
    case "snap":
      raft.electionElapsed = 0;
      raft.leader = m.from;
      handleFromLeader(raft, m);
      return;
    case "timeoutNow":
      // The leader's whole log, to its last index m.index (an entry of its term: its first entry
      // as leader is one), is ours when we hold its entry there (Log Matching), and it holds every
      // committed entry (Leader Completeness); sent after the loss (nothing sent before it is still
      // in flight, as for appends), it covers what the lost copy acknowledged. So a replica
      // recovering a lost log is whole, whatever the leader's commit index says.
      if (raft.recovering && m.index > 0 && m.logTerm === raft.term && raft.log.term(m.index) === m.logTerm) raft.recovering = false;
      hup(raft, true); // leadership transfer: campaign at once, without a pre-vote (thesis 3.10)
      return;
    case "readIndexResp":
      raft.readStates.push({ index: m.index, context: m.context });
      return;
  }
}

/** Role step for a pre-candidate or candidate. */
export function stepCandidate(raft: Raft, m: Message): void {
  switch (m.type) {
    case "app":
    case "heartbeat":
    case "snap":
      becomeFollower(raft, m.term, m.from); // a leader of our term exists (thesis 3.4)
      handleFromLeader(raft, m);
      return;
    case "voteResp":
    case "preVoteResp": {
      const expected = raft.role === "preCandidate" ? "preVoteResp" : "voteResp";
      if (m.type !== expected) return;
      const result = raft.tracker.recordVote(m.from, !m.reject);
      if (result === "won" && !raft.promotable()) {
        // A membership change applied during the election removed us from the voters: the votes
        // were counted in the new configuration, but a replica outside it must not lead it.
        // (Found by the simulator, seed 204: a pre-candidate removed mid-election became leader.)
        becomeFollower(raft, raft.term, noNode);
      } else if (result === "won") {
        if (raft.role === "preCandidate") campaign(raft, "vote", false);
        else becomeLeader(raft);
      } else if (result === "lost") {
        becomeFollower(raft, raft.term, noNode);
      }
      return;
    }
  }
}

function handleFromLeader(raft: Raft, m: Message): void {
  if (m.type === "app") handleAppend(raft, m);
  else if (m.type === "heartbeat") handleHeartbeat(raft, m);
  else handleSnapshotChunk(raft, m);
}

function handleAppend(raft: Raft, m: Message): void {
  const log = raft.log;
  if (m.index < log.committed) {
    raft.send(m.from, message("appResp", { index: log.committed }));
    return;
  }
  const lastNew = log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== null) {
    noteRecovered(raft, m.commit, lastNew);
    raft.send(m.from, message("appResp", { index: lastNew }));
    return;
  }
  // Tell the leader the last index whose term is <= the term it asked about: it can then skip
  // every entry of a conflicting term in one round trip.
  const hint = log.findConflictByTerm(Math.min(m.index, log.lastIndex()), m.logTerm);
  raft.send(m.from, message("appResp", { index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term }));
}

function handleHeartbeat(raft: Raft, m: Message): void {
  const last = raft.log.lastIndex();
  // A heartbeat's commit is at most what the leader knows we hold, so one past our log counts what
  // a lost self of ours acknowledged; so may any leader while we recover (RaftConfig.recovering).
  // Then answer with where the log ends (reject), so that the leader replicates from there, and
  // commit nothing on its word: our log may hold entries of a deposed leader (a replica restarted
  // empty without a fence accepts any term), and the appends that follow carry the commit index
  // with the entries it covers.
  const lost = raft.recovering || m.commit > last;
  if (m.quiesce) {
    // Go quiet only when our log is exactly the leader's: then nothing is left to replicate.
    const caughtUp = last === m.index && raft.log.matchTerm(m.index, m.logTerm);
    if (caughtUp) {
      raft.log.commitTo(m.commit);
      raft.quiesced = true;
      noteRecovered(raft, m.commit, last);
    }
    // Carry our last index like every heartbeat response: without it the leader reads 0 and takes
    // the follower for stalled, probing it (and waking the group) right after it went quiet.
    raft.send(m.from, message("heartbeatResp", { quiesce: caughtUp, reject: !caughtUp && lost, rejectHint: last }));
    return;
  }
  if (lost) {
    raft.send(m.from, message("heartbeatResp", { context: m.context, index: m.index, reject: true, rejectHint: last }));
    return;
  }
  raft.log.commitTo(m.commit);
  raft.send(m.from, message("heartbeatResp", { context: m.context, index: m.index, rejectHint: last }));
}

/**
 * A recovering replica (RaftConfig.recovering) is whole again once its log matches the leader's up
 * to `matched` and the leader's commit index `commit`, sent after the loss, is at most that and at
 * an entry of the leader's term: then it covers every entry committed in earlier terms, and every
 * entry the leader committed counting our lost copy.
 */
function noteRecovered(raft: Raft, commit: number, matched: number): void {
  if (raft.recovering && commit <= matched && raft.log.term(commit) === raft.term) raft.recovering = false;
}

function handleSnapshotChunk(raft: Raft, m: Message): void {
  const chunk = m.snapshot;
  if (chunk === null) return;
  const { index, term } = chunk.meta;
  if (index <= raft.log.committed) {
    raft.incomingSnapshot = null;
    raft.send(m.from, message("appResp", { index: raft.log.committed }));
    return;
  }
  let incoming = raft.incomingSnapshot;
  if (incoming === null || incoming.index !== index || incoming.term !== term) {
    if (chunk.offset !== 0) {
      raft.send(m.from, message("snapResp", { index, reject: true, rejectHint: 0 }));
      return;
    }
    incoming = { index, term, received: 0, chunks: [] };
    raft.incomingSnapshot = incoming;
  }
  if (chunk.offset !== incoming.received) {
    raft.send(m.from, message("snapResp", { index, reject: true, rejectHint: incoming.received }));
    return;
  }
  incoming.chunks.push(chunk.data.slice());
  incoming.received += chunk.data.byteLength;
  if (incoming.received < chunk.totalBytes) {
    raft.send(m.from, message("snapResp", { index, rejectHint: incoming.received }));
    return;
  }
  raft.incomingSnapshot = null;
  const data = concatBytes(incoming.chunks, incoming.received);
  const restored = restore(raft, { meta: chunk.meta, data });
  raft.send(m.from, message("appResp", { index: restored ? raft.log.lastIndex() : raft.log.committed }));
}

/** Installs a leader's snapshot; false when our log already covers it (then commit just advances). */
function restore(raft: Raft, snapshot: Snapshot): boolean {
  const { index, term } = snapshot.meta;
  if (index <= raft.log.committed) return false;
  if (raft.log.matchTerm(index, term)) {
    raft.log.commitTo(index);
    return false;
  }
  raft.log.restore(snapshot);
  raft.tracker.setConf(snapshot.meta.conf, raft.log.lastIndex());
  return true;
}
