/**
 * What a node checks on a peer's upgrade request besides the connection itself: the cluster secret
 * and the peer protocol version.
 *
 * Peers speak one protocol version (`peerProtocol`: the versions of the node frame, the Raft
 * batch, the command and snapshot formats inside Raft entries, and the router calls and command
 * meanings). Two nodes that differ in any would drop each other's frames as loss and retry calls
 * forever, which looks like a network fault, or, worse, apply a leader's entries differently and
 * diverge (an older follower applies a newer command as a bad one); so the dialer names its version on
 * the upgrade and the acceptor refuses another with 412 and a stable code (as etcd's peers refuse
 * an incompatible version) and logs `peerRefused` once a minute per peer. There is no older
 * version to speak to: upgrade every node of a cluster together when the version changes.
 */
import { compactCommandFormatVersion } from "../../kv/command-codec.ts";
import { snapshotFormatVersion } from "../../kv/snapshot-codec.ts";
import { nodeFrameVersion } from "../../multiraft/node-frame.ts";
import { wireFormatVersion } from "../../multiraft/wire.ts";

/** Header naming the connecting node. */
export const nodeHeader = "x-edgeraft-node";
/** Header naming the peer protocol the connecting node speaks (and, on a refusal, the one the acceptor speaks). */
export const peerProtocolHeader = "x-edgeraft-peer-protocol";
/**
 * Raised by hand when the router calls' JSON between nodes (requests to a peer's replicas, their
 * answers) or the meaning of a replicated command changes (a new command type, say): what the
 * format bytes below do not show.
 */
const peerCallsVersion = 3; // 2: /internal/leadership answers lastIndex, members, owns and epoch, which adoption needs (replica-adoption.ts); 3: /internal/wake
/** What a node speaks to its peers: the node frame, Raft batch, command and snapshot format versions, and peerCallsVersion. */
export const peerProtocol = [nodeFrameVersion, wireFormatVersion, compactCommandFormatVersion, snapshotFormatVersion, peerCallsVersion].join(".");
/** A peer refused for its protocol is logged at most this often (it redials every second). */
export const refusalLogEveryMs = 60_000;

/** Compares a bearer header with the secret in time that does not depend on where they differ. */
export function secretMatches(header: string | null, secret: string): boolean {
  const encoder = new TextEncoder();
  const given = encoder.encode(header ?? "");
  const expected = encoder.encode(`Bearer ${secret}`);
  let difference = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) difference |= expected[i]! ^ (given[i] ?? 0);
  return secret.length > 0 && difference === 0;
}
