/**
 * Proves the per-group transaction gauges of GET /metrics: edgeraft_txn_intents and
 * edgeraft_txn_records show each group's leader's counts (not a follower's, and the newest term's
 * when an old leader's report lingers), leave out a group with no leader shown, and render in the
 * Prometheus text format.
 */
import { describe, expect, it } from "vitest";
import { renderExposition } from "../../src/router/metrics/exposition.ts";
import type { ReplicaStats } from "../../src/router/metrics/replica-stats.ts";
import { txnFamilies } from "../../src/router/metrics/txn-families.ts";

const replica = (group: string, id: number, role: string, term: number, txnIntents: number, txnRecords: number): ReplicaStats => ({ group, replica: id, location: "", reachable: true, role, term, txnIntents, txnRecords });

describe("transaction gauges", () => {
  it("show each group's leader's intents and records", () => {
    const stats: ReplicaStats[] = [
      replica("accounts", 1, "follower", 3, 4, 1), // a follower behind its leader
      replica("accounts", 2, "leader", 3, 0, 0),
      replica("accounts", 3, "leader", 2, 7, 2), // a deposed leader's last report
      replica("orders", 1, "leader", 1, 2, 1),
      replica("quiet", 1, "follower", 1, 5, 5), // no leader shown: no sample
      { group: "gone", replica: 1, location: "", reachable: false },
    ];
    const [intents, records] = txnFamilies(stats);
    expect(intents).toMatchObject({ name: "edgeraft_txn_intents", type: "gauge", samples: [{ labels: { group: "accounts" }, value: 0 }, { labels: { group: "orders" }, value: 2 }] });
    expect(records).toMatchObject({ name: "edgeraft_txn_records", samples: [{ labels: { group: "accounts" }, value: 0 }, { labels: { group: "orders" }, value: 1 }] });
    const text = renderExposition(txnFamilies(stats));
    expect(text).toContain('edgeraft_txn_intents{group="orders"} 2');
    expect(text).toContain('edgeraft_txn_records{group="accounts"} 0');
    expect(text).not.toContain('group="quiet"');
  });
});
