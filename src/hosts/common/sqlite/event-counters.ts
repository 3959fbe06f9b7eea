/**
 * Durable counters of the events that cost a replica something: object starts, alarms fired, Raft
 * batches and messages received. In-memory counters restart with the object, and an idle object
 * hibernates, so measuring what an idle group costs needs counts that survive that.
 */
import type { SqlRunner } from "./schema.ts";

/** The events counted. */
export type ReplicaEvent = "starts" | "alarms" | "raftBatches" | "raftMessages";

/** Adds `count` to event `name` (one upsert, in whatever transaction is open). */
export function countEvent(sql: SqlRunner, name: ReplicaEvent, count = 1): void {
  sql.exec("INSERT INTO replica_events (name, count) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET count = count + excluded.count", name, count);
}

/** Every counter, zero when never counted. */
export function eventCounts(sql: SqlRunner): Record<ReplicaEvent, number> {
  const counts: Record<ReplicaEvent, number> = { starts: 0, alarms: 0, raftBatches: 0, raftMessages: 0 };
  for (const row of sql.exec("SELECT name, count FROM replica_events").toArray()) {
    if (typeof row.name === "string" && row.name in counts) counts[row.name as ReplicaEvent] = Number(row.count);
  }
  return counts;
}
