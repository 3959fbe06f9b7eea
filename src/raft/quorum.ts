/**
 * Quorum arithmetic for majority and joint configurations (thesis 3.6 and 4.3).
 * Imports nothing from the rest of the engine.
 */
import type { Index, NodeId } from "./types.ts";

/** Outcome of a vote count. */
export type VoteResult = "won" | "lost" | "pending";

/** Highest index stored by a majority of `voters`, given each voter's match index. Empty set: infinity. */
export function majorityCommitted(voters: readonly NodeId[], matchOf: (id: NodeId) => Index): Index {
  const n = voters.length;
  if (n === 0) return Number.MAX_SAFE_INTEGER; // an empty half of a joint config never blocks
  const matches = new Array<number>(n);
  for (let i = 0; i < n; i++) matches[i] = matchOf(voters[i]!);
  matches.sort((a, b) => b - a);
  return matches[Math.floor(n / 2)]!;
}

/** Committed index of a joint configuration: the smaller of both majorities (thesis 4.3). */
export function jointCommitted(incoming: readonly NodeId[], outgoing: readonly NodeId[], matchOf: (id: NodeId) => Index): Index {
  return Math.min(majorityCommitted(incoming, matchOf), majorityCommitted(outgoing, matchOf));
}

/** Vote outcome in one majority configuration; `votes` maps voter to granted or not. */
export function majorityVoteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return "won";
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === undefined) missing++;
    else if (vote) granted++;
  }
  const quorum = Math.floor(voters.length / 2) + 1;
  if (granted >= quorum) return "won";
  if (granted + missing >= quorum) return "pending";
  return "lost";
}

/** Vote outcome in a joint configuration: both halves must win. */
export function jointVoteResult(incoming: readonly NodeId[], outgoing: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const a = majorityVoteResult(incoming, votes);
  const b = majorityVoteResult(outgoing, votes);
  if (a === b) return a;
  if (a === "lost" || b === "lost") return "lost";
  return "pending";
}
