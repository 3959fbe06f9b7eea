/**
 * Membership changes by joint consensus (thesis 4.3): a change enters a joint configuration
 * C_old,new; leaving it moves to C_new. Functions return a new ConfState and never mutate.
 */
import type { ConfChange, ConfState } from "./types.ts";

/** A new configuration, or why the change is not allowed. */
export type ConfChangeResult = { ok: true; conf: ConfState } | { ok: false; error: string };

/** Whether `conf` is a joint configuration. */
export function isJoint(conf: ConfState): boolean {
  return conf.votersOutgoing.length > 0;
}

/** Applies `change` to `conf`: an empty change leaves the joint state, anything else enters it. */
export function changeConf(conf: ConfState, change: ConfChange): ConfChangeResult {
  return change.changes.length === 0 ? leaveJoint(conf) : enterJoint(conf, change);
}

function enterJoint(conf: ConfState, change: ConfChange): ConfChangeResult {
  if (isJoint(conf)) return { ok: false, error: "already in a joint configuration" };
  if (conf.voters.length === 0) return initialConf(change);
  const voters = new Set(conf.voters);
  const learners = new Set(conf.learners);
  const learnersNext = new Set<number>();
  const outgoing = new Set(conf.voters);
  for (const single of change.changes) {
    if (!Number.isSafeInteger(single.node) || single.node <= 0) return { ok: false, error: `bad node id ${single.node}` };
    const id = single.node;
    voters.delete(id);
    learners.delete(id);
    learnersNext.delete(id);
    if (single.type === "addVoter") voters.add(id);
    else if (single.type === "addLearner") (outgoing.has(id) ? learnersNext : learners).add(id);
  }
  if (voters.size === 0) return { ok: false, error: "the new configuration has no voters" };
  return {
    ok: true,
    conf: {
      voters: sorted(voters),
      votersOutgoing: sorted(outgoing),
      learners: sorted(learners),
      learnersNext: sorted(learnersNext),
      autoLeave: true,
    },
  };
}

/** The bootstrap entry of a group: an empty configuration takes its first members directly. */
function initialConf(change: ConfChange): ConfChangeResult {
  const voters = new Set<number>();
  const learners = new Set<number>();
  for (const single of change.changes) {
    if (!Number.isSafeInteger(single.node) || single.node <= 0) return { ok: false, error: `bad node id ${single.node}` };
    if (single.type === "removeVoter") return { ok: false, error: "cannot remove from an empty configuration" };
    (single.type === "addVoter" ? voters : learners).add(single.node);
  }
  for (const id of voters) learners.delete(id);
  if (voters.size === 0) return { ok: false, error: "the new configuration has no voters" };
  return { ok: true, conf: { voters: sorted(voters), votersOutgoing: [], learners: sorted(learners), learnersNext: [], autoLeave: false } };
}

function leaveJoint(conf: ConfState): ConfChangeResult {
  if (!isJoint(conf)) return { ok: false, error: "not in a joint configuration" };
  const learners = new Set([...conf.learners, ...conf.learnersNext]);
  return {
    ok: true,
    conf: { voters: [...conf.voters], votersOutgoing: [], learners: sorted(learners), learnersNext: [], autoLeave: false },
  };
}

/** Every member of `conf`: voters of both halves and learners. */
export function members(conf: ConfState): number[] {
  return sorted(new Set([...conf.voters, ...conf.votersOutgoing, ...conf.learners, ...conf.learnersNext]));
}

/** Whether `id` votes in either half of `conf`. */
export function isVoter(conf: ConfState, id: number): boolean {
  return conf.voters.includes(id) || conf.votersOutgoing.includes(id);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a change as the data of a confChange entry. */
export function encodeConfChange(change: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify(change.changes));
}

/** Decodes a confChange entry; undefined when the bytes are not a change (the entry is then ignored). */
export function decodeConfChange(data: Uint8Array): ConfChange | undefined {
  try {
    const parsed: unknown = JSON.parse(decoder.decode(data));
    if (!Array.isArray(parsed)) return undefined;
    for (const item of parsed) {
      if (typeof item !== "object" || item === null) return undefined;
      if (!["addVoter", "removeVoter", "addLearner"].includes(item.type) || typeof item.node !== "number") return undefined;
    }
    return { changes: parsed };
  } catch {
    return undefined;
  }
}

function sorted(ids: Set<number>): number[] {
  return [...ids].sort((a, b) => a - b);
}
