/**
 * Proves that membership changes go through joint consensus as thesis 4.3 describes: entering a
 * joint configuration keeps the old voters as the outgoing half, leaving it drops them, demoted
 * voters become learners only on leaving, and invalid changes are refused without mutation.
 */
import { describe, expect, it } from "vitest";
import { changeConf, decodeConfChange, encodeConfChange, isJoint } from "../../src/raft/confchange.ts";
import { emptyConfState } from "../../src/raft/storage.ts";
import type { ConfState } from "../../src/raft/types.ts";

const conf = (voters: number[], learners: number[] = []): ConfState => ({ ...emptyConfState(), voters, learners });

describe("joint consensus changes", () => {
  it("adding a voter enters C_old,new and leaving gives C_new", () => {
    const joint = changeConf(conf([1, 2, 3]), { changes: [{ type: "addVoter", node: 4 }] });
    expect(joint.ok).toBe(true);
    if (!joint.ok) return;
    expect(joint.conf.voters).toEqual([1, 2, 3, 4]);
    expect(joint.conf.votersOutgoing).toEqual([1, 2, 3]);
    expect(isJoint(joint.conf)).toBe(true);
    const left = changeConf(joint.conf, { changes: [] });
    expect(left.ok && left.conf).toEqual({ ...conf([1, 2, 3, 4]), autoLeave: false });
  });
  it("demoting a voter makes it a learner only when the joint state is left", () => {
    const joint = changeConf(conf([1, 2, 3]), { changes: [{ type: "addLearner", node: 3 }] });
    if (!joint.ok) throw new Error(joint.error);
    expect(joint.conf.learners).toEqual([]);
    expect(joint.conf.learnersNext).toEqual([3]);
    const left = changeConf(joint.conf, { changes: [] });
    if (!left.ok) throw new Error(left.error);
    expect(left.conf.voters).toEqual([1, 2]);
    expect(left.conf.learners).toEqual([3]);
  });
  it("promotes a learner to voter", () => {
    const joint = changeConf(conf([1, 2, 3], [4]), { changes: [{ type: "addVoter", node: 4 }] });
    expect(joint.ok && joint.conf.learners).toEqual([]);
    expect(joint.ok && joint.conf.voters).toEqual([1, 2, 3, 4]);
  });
  it("refuses a change while joint, leaving when not joint, and removing every voter", () => {
    const start = conf([1, 2, 3]);
    const joint = changeConf(start, { changes: [{ type: "removeVoter", node: 3 }] });
    if (!joint.ok) throw new Error(joint.error);
    expect(changeConf(joint.conf, { changes: [{ type: "addVoter", node: 5 }] }).ok).toBe(false);
    expect(changeConf(start, { changes: [] }).ok).toBe(false);
    const all = [1, 2, 3].map((node) => ({ type: "removeVoter" as const, node }));
    expect(changeConf(start, { changes: all }).ok).toBe(false);
    expect(start).toEqual(conf([1, 2, 3]));
  });
  it("round-trips its encoding and rejects garbage", () => {
    const change = { changes: [{ type: "addVoter" as const, node: 7 }, { type: "removeVoter" as const, node: 2 }] };
    expect(decodeConfChange(encodeConfChange(change))).toEqual(change);
    expect(decodeConfChange(new TextEncoder().encode("{nope"))).toBeUndefined();
    expect(decodeConfChange(new TextEncoder().encode('[{"type":"explode","node":1}]'))).toBeUndefined();
  });
});
