/**
 * A leader's view of how far behind each follower is in time, for GET /v1/health's lag in
 * seconds: on each tick the leader notes which followers hold every entry it knows committed; a
 * follower's lag is how long ago it last did (0 while it does). A new leader starts every
 * follower's clock at its first tick; a replica that is not leading knows no lag.
 */
import type { NodeId, Status } from "../../raft/types.ts";

/** When each follower last caught up, as seen by the leader. */
export class FollowerLag {
  private readonly caughtUpAtMs = new Map<NodeId, number>();

  /** Called on each tick with the engine's status; forgets everything when not leading. */
  note(self: NodeId, leading: boolean, status: Pick<Status, "commit" | "progress">, nowMs: number): void {
    if (!leading) {
      this.caughtUpAtMs.clear();
      return;
    }
    for (const [id, follower] of Object.entries(status.progress)) {
      const peer = Number(id);
      if (peer === self) continue;
      if (follower.match >= status.commit || !this.caughtUpAtMs.has(peer)) this.caughtUpAtMs.set(peer, nowMs);
    }
  }

  /** Each follower's lag in milliseconds (leader only; empty otherwise). */
  lagMs(self: NodeId, leading: boolean, status: Pick<Status, "commit" | "progress">, nowMs: number): Record<number, number> {
    if (!leading) return {};
    const lag: Record<number, number> = {};
    for (const [id, follower] of Object.entries(status.progress)) {
      const peer = Number(id);
      if (peer === self) continue;
      lag[peer] = follower.match >= status.commit ? 0 : Math.max(0, nowMs - (this.caughtUpAtMs.get(peer) ?? nowMs));
    }
    return lag;
  }
}
