/**
 * Leader behaviour: replication (batched, pipelined, probe/replicate/snapshot), commit by counting
 * current-term entries, ReadIndex and lease reads, leadership transfer, and quiescence.
 */
import { snapshotChunkBytesMax } from "../shared/limits.ts";
import { becomeFollower, message, type Raft } from "./raft.ts";
import { encodeConfChange, isJoint } from "./confchange.ts";
import { entryBytes } from "./storage.ts";
import type { Progress } from "./progress.ts";
import { noNode, type Entry, type EntryType, type Message, type NodeId } from "./types.ts";

/** Sets up a new leader: probes everyone and appends the no-op that commits earlier terms (thesis 3.6.2). */
export function becomeLeaderState(raft: Raft): void {
  // No conf change until every earlier one is applied: we cannot tell which are still pending.
  raft.pendingConfIndex = raft.log.lastIndex();
  appendEntries(raft, [{ type: "normal", data: new Uint8Array() }]);
  raft.heartbeatAckTicks.set(raft.id, raft.ticksTotal);
}

/**
 * A replica that stopped (hibernated, restarted) while its group was quiet resumes quiet in the same
 * term, as the follower of `leader` or as the leader itself, instead of starting with no leader and
 * campaigning when woken. Safe for the leader: it was elected in this term (at most one is), its vote
 * and log are durable, and it resumes as a leader just elected does, every follower probed. Had
 * another replica been elected in a later term meanwhile, the first answer carries that term and
 * this one steps down; until a quorum acknowledges it in its term it commits nothing and confirms
 * no read (ReadIndex needs a heartbeat quorum; it holds no lease, as any woken leader).
 */
export function resumeQuiet(raft: Raft, leader: NodeId): void {
  raft.leader = leader;
  if (leader === raft.id) {
    raft.role = "leader";
    raft.step = stepLeader;
    raft.tick = tickLeader;
    raft.pendingConfIndex = raft.log.lastIndex(); // as a new leader: earlier changes may still be pending
    raft.heartbeatAckTicks.set(raft.id, raft.ticksTotal);
  }
  raft.quiesced = true;
}

/** Appends new entries to the leader's log; false when backpressure refuses them. */
export function appendEntries(raft: Raft, proposals: { type: EntryType; data: Uint8Array }[]): boolean {
  let bytes = 0;
  for (const proposal of proposals) bytes += proposal.data.byteLength;
  if (raft.uncommittedBytes > 0 && raft.uncommittedBytes + bytes > raft.uncommittedBytesMax) return false;
  let index = raft.log.lastIndex();
  const entries: Entry[] = new Array(proposals.length);
  for (let i = 0; i < proposals.length; i++) {
    const proposal = proposals[i]!;
    entries[i] = { term: raft.term, index: ++index, type: proposal.type, data: proposal.data };
  }
  raft.log.append(entries);
  raft.uncommittedBytes += bytes;
  // Counting ourselves before the write is durable is safe: the driver persists before it sends, so
  // no follower can acknowledge (and thus complete a quorum) before our own copy is on disk.
  raft.tracker.progress.get(raft.id)?.maybeUpdate(index);
  if (raft.tracker.isSingleton(raft.id)) maybeCommit(raft); // otherwise only acknowledgements move commit
  raft.appendsPending = true;
  return true;
}

/** Advances commit to what a quorum stores, if that entry is from our term. */
export function maybeCommit(raft: Raft): boolean {
  if (!raft.log.maybeCommit(raft.tracker.committed(), raft.term)) return false;
  raft.appendsPending = true;
  if (raft.pendingReadRequests.length > 0) {
    const requests = raft.pendingReadRequests;
    raft.pendingReadRequests = [];
    for (const request of requests) handleReadIndex(raft, request);
  }
  return true;
}

/** Sends what the leader owes its followers: pending appends, commit updates, a wake-up heartbeat. */
export function flushLeader(raft: Raft): void {
  if (raft.role !== "leader") return;
  if (isJoint(raft.tracker.conf) && raft.tracker.conf.autoLeave && raft.pendingConfIndex <= raft.log.applied) {
    raft.pendingConfIndex = raft.log.lastIndex() + 1;
    appendEntries(raft, [{ type: "confChange", data: encodeConfChange({ changes: [] }) }]);
  }
  if (raft.heartbeatPending) {
    raft.heartbeatPending = false;
    bcastHeartbeat(raft, raft.readOnly.last());
  }
  if (!raft.appendsPending) return;
  raft.appendsPending = false;
  for (const [id, progress] of raft.tracker.progress) {
    if (id !== raft.id) sendAppends(raft, id, progress);
  }
}

/**
 * Sends as many appends as the window allows (an empty one only when `forceEmpty`). A newer commit
 * index alone is not worth a message: followers learn it from the next append or heartbeat (every
 * heartbeat carries it), which halves the requests and storage flushes of a replicated write. Only
 * a follower waiting on a forwarded read is told at once (answerRead).
 */
function sendAppends(raft: Raft, to: NodeId, progress: Progress, forceEmpty = false): void {
  let sendEmpty = forceEmpty;
  while (sendAppend(raft, to, progress, sendEmpty)) {
    sendEmpty = false;
    if (progress.state !== "replicate") break;
  }
}

/** Sends one append (or starts a snapshot) to `to`; returns whether a message went out. */
function sendAppend(raft: Raft, to: NodeId, progress: Progress, sendEmpty: boolean): boolean {
  if (progress.isPaused()) return false;
  const prevIndex = progress.next - 1;
  const prevTerm = raft.log.term(prevIndex);
  if (prevTerm === null || progress.next < raft.log.firstIndex()) {
    startSnapshot(raft, to, progress);
    return true;
  }
  const lastIndex = raft.log.lastIndex();
  const entries = progress.next <= lastIndex ? raft.log.slice(progress.next, lastIndex + 1, raft.appendBytesMax) : [];
  if (entries.length === 0 && !sendEmpty) return false;
  const commit = raft.log.committed;
  raft.send(to, message("app", { index: prevIndex, logTerm: prevTerm, entries, commit }));
  progress.commitSent = commit;
  progress.sentEntries(prevIndex + entries.length, entries.length);
  return true;
}

function startSnapshot(raft: Raft, to: NodeId, progress: Progress): void {
  const snapshot = raft.log.storage.snapshot();
  progress.becomeSnapshot(snapshot.meta.index);
  sendSnapshotChunk(raft, to, progress);
}

/** Sends the chunk at the peer's acknowledged offset (InstallSnapshot in bounded pieces). */
function sendSnapshotChunk(raft: Raft, to: NodeId, progress: Progress): void {
  const snapshot = raft.log.storage.snapshot();
  if (snapshot.meta.index !== progress.pendingSnapshot) {
    progress.becomeSnapshot(snapshot.meta.index); // compacted again meanwhile: send the newer one
  }
  const offset = progress.snapshotOffset;
  const data = snapshot.data.subarray(offset, offset + snapshotChunkBytesMax);
  const chunk = { meta: snapshot.meta, offset, totalBytes: snapshot.data.byteLength, data };
  raft.send(to, message("snap", { snapshot: chunk, commit: raft.log.committed }));
  progress.stallHeartbeats = 0;
}

/** Broadcasts a heartbeat carrying `context` (a ReadIndex round) and our tick for lease accounting. */
export function bcastHeartbeat(raft: Raft, context: string): void {
  if (context !== "") raft.readRoundContext = context;
  for (const [id, progress] of raft.tracker.progress) {
    if (id === raft.id) continue;
    const commit = Math.min(progress.match, raft.log.committed);
    raft.send(id, message("heartbeat", { commit, context, index: raft.ticksTotal }));
    progress.commitSent = Math.max(progress.commitSent, commit);
  }
}

/** Leader tick: heartbeats, CheckQuorum, transfer timeout, and the decision to go quiet. */
export function tickLeader(raft: Raft): void {
  raft.ticksTotal++;
  if (raft.quiesced) return;
  raft.heartbeatElapsed++;
  raft.electionElapsed++;
  if (raft.electionElapsed >= raft.electionTicks) {
    raft.electionElapsed = 0;
    if (raft.checkQuorum) {
      if (!raft.tracker.quorumActive(raft.id)) {
        becomeFollower(raft, raft.term, noNode); // partitioned from a quorum: stop serving (thesis 6.2)
        return;
      }
      for (const [id, progress] of raft.tracker.progress) progress.recentActive = id === raft.id;
    }
    raft.leadTransferee = noNode; // the transfer did not finish within an election timeout: abort
  }
  if (raft.heartbeatElapsed < raft.heartbeatTicks) return;
  raft.heartbeatElapsed = 0;
  if (canQuiesce(raft)) quiesce(raft);
  else bcastHeartbeat(raft, raft.readOnly.last());
}

/** Whether the group is idle and fully replicated, so heartbeats can stop. */
function canQuiesce(raft: Raft): boolean {
  if (!raft.quiesceEnabled || raft.leadTransferee !== noNode) return false;
  if (raft.readOnly.size > 0 || raft.pendingReadRequests.length > 0) return false;
  const lastIndex = raft.log.lastIndex();
  if (raft.log.committed !== lastIndex || raft.log.applied !== lastIndex) return false;
  if (isJoint(raft.tracker.conf) || raft.pendingConfIndex > raft.log.applied) return false;
  for (const [id, progress] of raft.tracker.progress) {
    if (id !== raft.id && (progress.match !== lastIndex || progress.state !== "replicate")) return false;
  }
  return true;
}

function quiesce(raft: Raft): void {
  raft.quiesced = true;
  const index = raft.log.lastIndex();
  const logTerm = raft.log.lastTerm();
  for (const id of raft.tracker.progress.keys()) {
    if (id === raft.id) continue;
    raft.send(id, message("heartbeat", { commit: raft.log.committed, index, logTerm, quiesce: true }));
  }
}

/** Whether a lease read may be served now without a heartbeat round. */
function leaseValid(raft: Raft): boolean {
  // Not after a transfer this term: a late TimeoutNow can still elect its target (found by the
  // simulator's straggler messages; see Raft.transferStarted).
  if (!raft.leaseReads || raft.transferStarted || raft.quiesced) return false;
  const oldest = raft.ticksTotal - (raft.electionTicks - raft.leaseSafetyTicks);
  const fresh = new Set<NodeId>([raft.id]);
  for (const [id, tick] of raft.heartbeatAckTicks) if (tick > oldest) fresh.add(id);
  return raft.tracker.quorumOf(fresh);
}

function committedInCurrentTerm(raft: Raft): boolean {
  return raft.log.term(raft.log.committed) === raft.term;
}

/** Handles a read request from ourselves (from === our id) or a follower (thesis 6.4). */
export function handleReadIndex(raft: Raft, m: Message): void {
  const from = m.from === noNode ? raft.id : m.from;
  if (raft.tracker.isSingleton(raft.id)) {
    answerRead(raft, from, raft.log.committed, m.context);
    return;
  }
  if (!committedInCurrentTerm(raft)) {
    raft.pendingReadRequests.push(m); // the commit index is not known until our no-op commits
    return;
  }
  if (m.lease && leaseValid(raft)) {
    answerRead(raft, from, raft.log.committed, m.context);
    return;
  }
  raft.readOnly.add(m.context, raft.log.committed, from, raft.id);
  // One confirmation round at a time (thesis 6.4): reads that arrive while a round is in flight
  // wait for the next one, which starts when this one completes, so a burst of reads costs one
  // heartbeat round instead of one each. The round is sent after the read arrived, so its
  // acknowledgements prove leadership at a time after the read's commit index was taken.
  if (raft.readRoundContext === "") raft.heartbeatPending = true;
}

function answerRead(raft: Raft, from: NodeId, index: number, context: string): void {
  if (from === raft.id) {
    raft.readStates.push({ index, context });
    return;
  }
  raft.send(from, message("readIndexResp", { index, context }));
  // The follower serves the read once it has applied `index`: tell it the commit index now rather
  // than at the next heartbeat.
  const progress = raft.tracker.progress.get(from);
  if (progress !== undefined && progress.commitSent < index) sendAppends(raft, from, progress, true);
}

/** Role step for the leader. */
export function stepLeader(raft: Raft, m: Message): void {
  const progress = raft.tracker.progress.get(m.from);
  switch (m.type) {
    case "prop":
      if (raft.leadTransferee === noNode) proposeForwarded(raft, m);
      return;
    case "readIndex":
      handleReadIndex(raft, m);
      return;
    case "transferLeader":
      handleTransferLeader(raft, m.from);
      return;
  }
  if (progress === undefined) return; // not a member (any more)
  switch (m.type) {
    case "appResp":
      progress.recentActive = true;
      handleAppendResponse(raft, m, progress);
      return;
    case "heartbeatResp":
      progress.recentActive = true;
      handleHeartbeatResponse(raft, m, progress);
      return;
    case "snapResp":
      progress.recentActive = true;
      if (progress.state !== "snapshot" || m.index !== progress.pendingSnapshot) return;
      progress.snapshotOffset = m.rejectHint;
      sendSnapshotChunk(raft, m.from, progress);
      return;
  }
}

function proposeForwarded(raft: Raft, m: Message): void {
  const proposals = m.entries.filter((entry) => entry.type === "normal");
  if (proposals.length > 0) appendEntries(raft, proposals);
}

function handleAppendResponse(raft: Raft, m: Message, progress: Progress): void {
  if (m.reject) {
    let hint = m.rejectHint;
    if (m.logTerm > 0) hint = raft.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
    if (progress.maybeDecrease(m.index, hint)) {
      if (progress.state === "replicate") progress.becomeProbe();
      sendAppends(raft, m.from, progress);
    }
    return;
  }
  const updated = progress.maybeUpdate(m.index);
  if (!updated && !(progress.state === "probe" && progress.match === m.index)) return; // stale or duplicate
  if (progress.state === "probe") progress.becomeReplicate();
  else if (progress.state === "snapshot" && progress.match >= progress.pendingSnapshot) {
    progress.becomeProbe();
    progress.becomeReplicate();
  } else if (progress.state === "replicate") progress.inflights.freeLE(m.index);
  maybeCommit(raft);
  sendAppends(raft, m.from, progress);
  if (m.from === raft.leadTransferee && progress.match === raft.log.lastIndex()) sendTimeoutNow(raft, m.from);
}

function handleHeartbeatResponse(raft: Raft, m: Message, progress: Progress): void {
  progress.probeSent = false;
  if (m.reject) {
    // The peer lost its log, or recovers one (RaftConfig.recovering): when what it acknowledged is
    // gone, replicate again from where its log ends; either way send an append (empty if need be),
    // whose commit index is the one a recovering replica must see to be whole again.
    if (m.rejectHint < progress.match) progress.lost(m.rejectHint);
    sendAppends(raft, m.from, progress, true);
  }
  if (!m.quiesce) raft.heartbeatAckTicks.set(m.from, Math.max(raft.heartbeatAckTicks.get(m.from) ?? 0, m.index));
  if (progress.state === "snapshot") {
    if (++progress.stallHeartbeats >= 2) sendSnapshotChunk(raft, m.from, progress);
  } else if (progress.state === "replicate" && m.rejectHint < progress.next - 1) {
    // The peer's log ends before what we sent it: appends were lost (or are late). After two
    // heartbeats without progress, fall back to probing, which resends from the match point.
    if (++progress.stallHeartbeats >= 2) {
      progress.becomeProbe();
      sendAppends(raft, m.from, progress);
    }
  } else if (progress.state === "probe") {
    // Probe even when nothing is new (an empty append), as etcd-io/raft does: only an append's
    // answer returns the peer to replicate, and a peer left probing keeps the group from ever
    // quiescing. (Found by the simulator, seed 843: probing with match = last index, nothing sent.)
    sendAppend(raft, m.from, progress, true);
  } else if (progress.match < raft.log.lastIndex() || progress.commitSent < raft.log.committed) {
    // The peer's acknowledgements may have been lost: a full window would then never drain, and
    // with everything already sent nothing new would be sent to draw a fresh one. Free the oldest
    // slot and send even an empty append, whose answer re-reports the peer's match, as etcd-io/raft
    // does on heartbeat responses. (Found by the simulator, seed 925: window of 1, its ack lost.)
    if (progress.state === "replicate" && progress.inflights.full()) progress.inflights.freeFirstOne();
    sendAppends(raft, m.from, progress, progress.match < raft.log.lastIndex());
  }
  if (m.context === "") return;
  const acks = raft.readOnly.ack(m.context, m.from);
  if (acks === undefined || !raft.tracker.quorumOf(acks)) return;
  for (const read of raft.readOnly.release(m.context)) answerRead(raft, read.from, read.index, read.context);
  if (!raft.readOnly.has(raft.readRoundContext)) {
    raft.readRoundContext = "";
    if (raft.readOnly.size > 0) raft.heartbeatPending = true; // the next round, for reads that queued meanwhile
  }
}

function handleTransferLeader(raft: Raft, target: NodeId): void {
  const progress = raft.tracker.progress.get(target);
  if (progress === undefined || progress.isLearner || target === raft.id) return;
  if (raft.leadTransferee === target) return;
  raft.leadTransferee = target;
  raft.transferStarted = true;
  raft.electionElapsed = 0; // the transfer is abandoned after one election timeout
  raft.heartbeatAckTicks.clear(); // no lease reads while another replica may be taking over
  if (progress.match === raft.log.lastIndex()) sendTimeoutNow(raft, target);
  else sendAppends(raft, target, progress);
}

/**
 * Tells a transfer's target, whose log matches ours to our last index, to campaign now. It carries
 * that index and its term: a target still recovering a lost log (RaftConfig.recovering) learns from
 * them that it holds our whole log, so every committed entry, and campaigns, instead of ignoring the
 * transfer, which then held proposals back for an election timeout.
 */
function sendTimeoutNow(raft: Raft, target: NodeId): void {
  raft.send(target, message("timeoutNow", { index: raft.log.lastIndex(), logTerm: raft.log.lastTerm() }));
}

/** Bytes of `entries` for the uncommitted-bytes budget (the budget counts payloads only). */
export function payloadBytes(entries: Entry[]): number {
  let total = 0;
  for (const entry of entries) total += entryBytes(entry) - 16;
  return total;
}
