/**
 * The simulated wire: every message is deep-copied when it is sent and again when it is delivered,
 * which models serialization and guarantees that no two replicas ever share a mutable object
 * (Uint8Array payloads included).
 */
import { assert } from "../../src/shared/assert.ts";
import type { ConfState, Entry, Message, SnapshotChunk } from "../../src/raft/types.ts";

/** Number of fields of a Message; a new field must be taught to copyMessage before it can travel. */
const messageFieldsCount = 15;

/** A deep copy of `message` sharing nothing with it. */
export function copyMessage(message: Message): Message {
  assert(Object.keys(message).length === messageFieldsCount, `copyMessage knows every field of a ${message.type} message`);
  return {
    type: message.type,
    from: message.from,
    to: message.to,
    term: message.term,
    logTerm: message.logTerm,
    index: message.index,
    entries: message.entries.map(copyEntry),
    commit: message.commit,
    reject: message.reject,
    rejectHint: message.rejectHint,
    context: message.context,
    snapshot: message.snapshot === null ? null : copyChunk(message.snapshot),
    quiesce: message.quiesce,
    transfer: message.transfer,
    lease: message.lease,
  };
}

/** A deep copy of one log entry. */
export function copyEntry(entry: Entry): Entry {
  return { term: entry.term, index: entry.index, type: entry.type, data: entry.data.slice() };
}

/** A deep copy of a configuration. */
export function copyConf(conf: ConfState): ConfState {
  return {
    voters: conf.voters.slice(),
    votersOutgoing: conf.votersOutgoing.slice(),
    learners: conf.learners.slice(),
    learnersNext: conf.learnersNext.slice(),
    autoLeave: conf.autoLeave,
  };
}

function copyChunk(chunk: SnapshotChunk): SnapshotChunk {
  return {
    meta: { index: chunk.meta.index, term: chunk.meta.term, conf: copyConf(chunk.meta.conf) },
    offset: chunk.offset,
    totalBytes: chunk.totalBytes,
    data: chunk.data.slice(),
  };
}
