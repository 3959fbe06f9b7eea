/**
 * Every upper bound of the system, in one place (TigerBeetle style). Names carry the unit last.
 * Assertions at the bottom relate the limits to each other.
 */
import { assert } from "./assert.ts";

/** Largest key, in bytes of UTF-8. */
export const keyBytesMax = 1024;
/** Largest value, in bytes. */
export const valueBytesMax = 1024 * 1024;
/** Largest AppendEntries message payload (sum of entry data), in bytes; one entry may exceed it alone. */
export const appendBytesMax = 1024 * 1024;
/** Most AppendEntries messages in flight to one follower (pipelining window). */
export const inflightMessagesMax = 256;
/** Most entries the leader will accept but not yet commit, in bytes (backpressure on proposals). */
export const uncommittedBytesMax = 64 * 1024 * 1024;
/** Most bytes of committed entries handed to the host in one Ready. */
export const committedBytesPerReadyMax = 16 * 1024 * 1024;
/** Size of one InstallSnapshot chunk, in bytes. */
export const snapshotChunkBytesMax = 256 * 1024;
/** Most pending ReadIndex requests the leader queues. */
export const pendingReadsMax = 100_000;
/** Most client sessions a state machine keeps; the least recently used expires first past this. */
export const sessionsMax = 100_000;
/** Most operations in one batch or transaction command. */
export const batchOperationsMax = 1_000;
/** Most records (and most client sessions) one range install command carries. */
export const rangeInstallEntriesMax = 1_000;
/** Most value bytes one range install command carries; a single larger record still travels alone. */
export const rangeInstallBytesMax = 1024 * 1024;
/** Most groups a hashed tenant keyspace has. */
export const hashedTenantGroupsMax = 64;
/** Most keys returned by one scan page. */
export const scanLimitMax = 1_000;
/** Most replicas (voters plus learners) in one group. */
export const replicasMax = 9;
/** Largest client id of a session, in bytes of UTF-8. */
export const clientIdBytesMax = 256;
/** Largest request id carried by a command, in bytes of UTF-8. */
export const requestIdBytesMax = 256;
/** Most keys (reads, checks and writes together) one transaction touches. */
export const txnKeysMax = 64;
/** Most value bytes one transaction writes. */
export const txnValueBytesMax = 512 * 1024;
/** Most intents one group holds at once; a prepare past it is refused (retryable). */
export const intentsMax = 10_000;
/** Most value bytes the intents of one group hold at once (they are persisted beside the counters). */
export const intentValueBytesMax = 1024 * 1024;
/** Most transaction records one group keeps at once (pending and decided, not yet forgotten). */
export const txnRecordsMax = 10_000;
/** Most ended transactions a group remembers, so that a late prepare of one is refused. */
export const endedTxnsMax = 1_024;
/** Number of hash slots of a hashed keyspace; fixed forever, since a key's slot decides where its data lives. */
export const hashSlotCount = 4096;

assert(snapshotChunkBytesMax <= appendBytesMax, "a snapshot chunk fits in one message");
assert(valueBytesMax + keyBytesMax <= uncommittedBytesMax, "one maximal write can always be proposed");
assert(txnValueBytesMax <= intentValueBytesMax, "one transaction's writes fit in a group's intents");
assert(inflightMessagesMax >= 1, "the pipeline window holds at least one message");
assert(Number.isSafeInteger(hashSlotCount) && hashSlotCount >= 1 && hashSlotCount <= 2 ** 32, "hash slots are a 32-bit hash's residues");
