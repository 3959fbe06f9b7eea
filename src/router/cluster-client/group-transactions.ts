/** The transaction counts of GET /v1/groups/{name}: asked of the group's leader, as the rest of that inspection asks its replicas. */
import type { GroupTransactions } from "../cluster.ts";
import type { GroupDescriptor } from "./directory.ts";
import type { ReplicaCaller } from "./replica-caller.ts";

/** `{transactions}` from replica `leader`'s status, or nothing when no leader is known or it did not answer. */
export async function leaderTransactions(caller: ReplicaCaller, group: GroupDescriptor, leader: number): Promise<{ transactions?: GroupTransactions }> {
  if (leader <= 0) return {};
  const reply = await caller.direct<{ kind: string; status?: { role?: string; txnIntents?: number; txnRecords?: number } }>(group, leader, "/internal/status", undefined);
  const status = reply?.status;
  if (reply?.kind !== "ok" || status?.role !== "leader" || status.txnIntents === undefined || status.txnRecords === undefined) return {};
  return { transactions: { intents: status.txnIntents, records: status.txnRecords, replica: leader } };
}
