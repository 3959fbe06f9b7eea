/**
 * The leader balancer's state in the metadata object's own SQLite storage (one row per group and
 * one for the pass state), so an eviction or restart of the metadata leader's object keeps the
 * decayed request counts and each group's last transfer time: the minimum interval between two
 * transfers of a group still holds after a restart. A metadata leader change starts from what the
 * new leader's object last saved (nothing when it never led), as before.
 */
import type { SavedLeaderGroup, SavedLeaderPasses } from "../../multiraft/leader-balance.ts";
import type { LeaderBalanceStore } from "../../router/cluster-client/leader-balancer.ts";

/** A LeaderBalanceStore over a Durable Object's SQL storage. */
export function sqlLeaderBalanceStore(storage: DurableObjectStorage): LeaderBalanceStore {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS leader_balance_groups (name TEXT PRIMARY KEY, state TEXT NOT NULL)");
  sql.exec("CREATE TABLE IF NOT EXISTS leader_balance_passes (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)");
  const savePasses = (passes: SavedLeaderPasses) =>
    sql.exec("INSERT INTO leader_balance_passes (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state", JSON.stringify(passes));
  const saveGroup = (name: string, state: SavedLeaderGroup) =>
    sql.exec("INSERT INTO leader_balance_groups (name, state) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET state = excluded.state", name, JSON.stringify(state));
  return {
    load() {
      const passes = sql.exec("SELECT state FROM leader_balance_passes WHERE id = 1").toArray()[0];
      const groups = sql.exec("SELECT name, state FROM leader_balance_groups ORDER BY name").toArray()
        .map((row): [string, SavedLeaderGroup] => [String(row.name), JSON.parse(String(row.state)) as SavedLeaderGroup]);
      return { passes: passes === undefined ? undefined : (JSON.parse(String(passes.state)) as SavedLeaderPasses), groups };
    },
    saveGroup(passes, name, state) {
      storage.transactionSync(() => {
        savePasses(passes);
        saveGroup(name, state);
      });
    },
    saveAll(passes, groups) {
      storage.transactionSync(() => {
        savePasses(passes);
        sql.exec("DELETE FROM leader_balance_groups");
        for (const [name, state] of groups) saveGroup(name, state);
      });
    },
  };
}
