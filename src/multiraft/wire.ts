/**
 * The wire format of Raft traffic between replicas: a batch of messages for one group, from one
 * replica to another, as JSON with byte fields in base64. Decoding validates every field, so a
 * malformed or hostile body is refused as a value and never reaches the engine.
 */
import { decodeBase64, encodeBase64 } from "../shared/base64.ts";
import type { Entry, Message, MessageType, SnapshotChunk, ConfState } from "../raft/types.ts";

/** Messages for one group's replica `to`, sent by replica `from`. */
export interface MessageBatch {
  group: string;
  from: number;
  to: number;
  messages: Message[];
}

const messageTypes = new Set<MessageType>([
  "app", "appResp", "vote", "voteResp", "preVote", "preVoteResp", "heartbeat", "heartbeatResp",
  "snap", "snapResp", "prop", "readIndex", "readIndexResp", "transferLeader", "timeoutNow", "wake",
]);

/** Encodes a batch as JSON text. */
export function encodeBatch(batch: MessageBatch): string {
  return JSON.stringify({ group: batch.group, from: batch.from, to: batch.to, messages: batch.messages.map(encodeMessage) });
}

function encodeMessage(m: Message): unknown {
  const out: Record<string, unknown> = { type: m.type, from: m.from, to: m.to, term: m.term };
  if (m.logTerm !== 0) out.logTerm = m.logTerm;
  if (m.index !== 0) out.index = m.index;
  if (m.commit !== 0) out.commit = m.commit;
  if (m.reject) out.reject = true;
  if (m.rejectHint !== 0) out.rejectHint = m.rejectHint;
  if (m.context !== "") out.context = m.context;
  if (m.quiesce) out.quiesce = true;
  if (m.transfer) out.transfer = true;
  if (m.lease) out.lease = true;
  if (m.entries.length > 0) out.entries = m.entries.map((e) => [e.term, e.index, e.type === "normal" ? 0 : 1, encodeBase64(e.data)]);
  if (m.snapshot !== null) {
    const s = m.snapshot;
    out.snapshot = { meta: s.meta, offset: s.offset, totalBytes: s.totalBytes, data: encodeBase64(s.data) };
  }
  return out;
}

/** Decodes a batch, or returns why it is malformed. */
export function decodeBatch(text: string): { ok: true; batch: MessageBatch } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: "batch is not JSON" };
  }
  if (!isObject(raw) || typeof raw.group !== "string" || !isId(raw.from) || !isId(raw.to) || !Array.isArray(raw.messages)) {
    return { ok: false, error: "batch needs group, from, to and messages" };
  }
  const messages: Message[] = [];
  for (const item of raw.messages) {
    const m = decodeMessage(item);
    if (m === undefined) return { ok: false, error: "malformed message" };
    messages.push(m);
  }
  return { ok: true, batch: { group: raw.group, from: raw.from, to: raw.to, messages } };
}

function decodeMessage(raw: unknown): Message | undefined {
  if (!isObject(raw) || typeof raw.type !== "string" || !messageTypes.has(raw.type as MessageType)) return undefined;
  const numbers = ["from", "to", "term", "logTerm", "index", "commit", "rejectHint"] as const;
  for (const field of numbers) if (raw[field] !== undefined && !isCount(raw[field])) return undefined;
  const entries = decodeEntries(raw.entries);
  const snapshot = decodeChunk(raw.snapshot);
  if (entries === undefined || snapshot === undefined) return undefined;
  if (raw.context !== undefined && typeof raw.context !== "string") return undefined;
  return {
    type: raw.type as MessageType,
    from: (raw.from as number | undefined) ?? 0,
    to: (raw.to as number | undefined) ?? 0,
    term: (raw.term as number | undefined) ?? 0,
    logTerm: (raw.logTerm as number | undefined) ?? 0,
    index: (raw.index as number | undefined) ?? 0,
    entries,
    commit: (raw.commit as number | undefined) ?? 0,
    reject: raw.reject === true,
    rejectHint: (raw.rejectHint as number | undefined) ?? 0,
    context: (raw.context as string | undefined) ?? "",
    snapshot,
    quiesce: raw.quiesce === true,
    transfer: raw.transfer === true,
    lease: raw.lease === true,
  };
}

function decodeEntries(raw: unknown): Entry[] | undefined {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return undefined;
  const entries: Entry[] = [];
  for (const item of raw) {
    if (!Array.isArray(item) || item.length !== 4 || !isCount(item[0]) || !isCount(item[1]) || (item[2] !== 0 && item[2] !== 1)) return undefined;
    const data = typeof item[3] === "string" ? decodeBase64(item[3]) : undefined;
    if (data === undefined) return undefined;
    entries.push({ term: item[0], index: item[1], type: item[2] === 0 ? "normal" : "confChange", data });
  }
  return entries;
}

function decodeChunk(raw: unknown): SnapshotChunk | null | undefined {
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw) || !isObject(raw.meta) || !isCount(raw.offset) || !isCount(raw.totalBytes) || typeof raw.data !== "string") return undefined;
  const meta = raw.meta;
  if (!isCount(meta.index) || !isCount(meta.term) || !isConf(meta.conf)) return undefined;
  const data = decodeBase64(raw.data);
  if (data === undefined) return undefined;
  return { meta: { index: meta.index, term: meta.term, conf: meta.conf }, offset: raw.offset, totalBytes: raw.totalBytes, data };
}

function isConf(raw: unknown): raw is ConfState {
  if (!isObject(raw) || typeof raw.autoLeave !== "boolean") return false;
  return [raw.voters, raw.votersOutgoing, raw.learners, raw.learnersNext].every((list) => Array.isArray(list) && list.every(isId));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isId(value: unknown): value is number {
  return isCount(value) && value > 0;
}
