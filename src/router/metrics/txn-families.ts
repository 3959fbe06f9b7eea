/**
 * Per-group transaction gauges of GET /metrics: the intents and transaction records each group's
 * leader holds, from the same replica stats as the rest of the scrape (reports to the aggregate on
 * Cloudflare, so a scrape wakes nothing). Both fall to 0 once every transaction ended and the sweep
 * or its readers resolved it; a count that stays above 0 is an abandoned transaction.
 */
import type { MetricFamily, Sample } from "./exposition.ts";
import type { ReplicaStats } from "./replica-stats.ts";

/** The leader's stats of each group shown (the highest term's, when stale reports disagree). */
export function leaderStatsByGroup(stats: readonly ReplicaStats[]): Map<string, ReplicaStats> {
  const leaders = new Map<string, ReplicaStats>();
  for (const replica of stats) {
    if (!replica.reachable || replica.role !== "leader") continue;
    const known = leaders.get(replica.group);
    if (known === undefined || (replica.term ?? 0) > (known.term ?? 0)) leaders.set(replica.group, replica);
  }
  return leaders;
}

/** edgeraft_txn_intents and edgeraft_txn_records, one sample per group whose leader reported them. */
export function txnFamilies(stats: readonly ReplicaStats[]): MetricFamily[] {
  const leaders = [...leaderStatsByGroup(stats).values()];
  const samplesOf = (value: (leader: ReplicaStats) => number | undefined): Sample[] =>
    leaders.flatMap((leader) => {
      const number = value(leader);
      return number === undefined ? [] : [{ labels: { group: leader.group }, value: number }];
    });
  return [
    { name: "edgeraft_txn_intents", type: "gauge", help: "Intents of unfinished cross-group transactions on the group's keys, as its leader holds them.", samples: samplesOf((leader) => leader.txnIntents) },
    { name: "edgeraft_txn_records", type: "gauge", help: "Transaction records the group keeps as coordinator (pending, or decided and not yet forgotten), as its leader holds them.", samples: samplesOf((leader) => leader.txnRecords) },
  ];
}
