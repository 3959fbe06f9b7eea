/** The transaction counts of GET /v1/groups/{name}: what the group's leader holds, from its status (asked, or as it last reported it). */
import type { GroupTransactions } from "../cluster.ts";
import type { GroupDescriptor } from "./directory.ts";
import type { ReplicaCaller } from "./replica-caller.ts";

/** The part of a replica's status the transaction counts come from. */
export interface TransactionStatus {
  readonly role?: string;
  readonly txnIntents?: number;
  readonly txnRecords?: number;
}

/** `{transactions}` from replica `leader`'s status, or nothing when no leader is known or it did not answer. */
export async function leaderTransactions(caller: ReplicaCaller, group: GroupDescriptor, leader: number): Promise<{ transactions?: GroupTransactions }> {
  if (leader <= 0) return {};
  const reply = await caller.direct<{ kind: string; status?: TransactionStatus }>(group, leader, "/internal/status", undefined);
  return reply?.kind === "ok" ? transactionsOf(leader, reply.status) : {};
}

/** `{transactions}` from replica `leader`'s status when it says it leads and counts them (a follower's counts may trail the leader's). */
export function transactionsOf(leader: number, status: TransactionStatus | undefined): { transactions?: GroupTransactions } {
  if (status?.role !== "leader" || status.txnIntents === undefined || status.txnRecords === undefined) return {};
  return { transactions: { intents: status.txnIntents, records: status.txnRecords, replica: leader } };
}
