/**
 * Proves the Deno host's name-only placement and command line: a group's replicas land on
 * distinct nodes whatever the order the node ids are given in, the first replicas (first leaders)
 * of many groups spread evenly over the nodes, a replica added or replacing another gets an id
 * that puts it on a node holding none of the group's staying replicas (or is refused when every
 * node holds one), the leader handed back to is the voter on replica 1's node (or one the group's name picks,
 * spread over the nodes also after a node is lost for good), and the node's arguments are checked with clear
 * errors (a missing secret, a node list without this node, a malformed entry); the balance
 * thresholds come from the environment; the cluster scripts and `deno task node` start a node
 * with the same V8 flags.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { nodeOfReplica, preferredLeaderOf, replicaIdOnFreeNode, replicasMaxOf } from "../../src/hosts/deno/placement.ts";
import { defaultSyncDelay, nodeCommandLine, nodeV8Flags, parseNodeArguments } from "../../src/hosts/deno/arguments.ts";
import { defaultBalanceThresholds } from "../../src/multiraft/balance.ts";

describe("Deno placement", () => {
  it("puts a group's replicas on distinct nodes, independent of the order of the node ids", () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 40 }), (group) => {
      const nodes = [1, 2, 3].map((replica) => nodeOfReplica(group, replica, [1, 2, 3]));
      expect(new Set(nodes).size).toBe(3);
      expect([1, 2, 3].map((replica) => nodeOfReplica(group, replica, [3, 1, 2]))).toEqual(nodes);
    }));
  });

  it("spreads the first replicas of 3,000 groups evenly over three nodes", () => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 3_000; i++) {
      const node = nodeOfReplica(`tenant-${i}`, 1, [1, 2, 3]);
      counts.set(node, (counts.get(node) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([1, 2, 3]);
    for (const count of counts.values()) expect(Math.abs(count - 1_000)).toBeLessThan(100);
  });
});

describe("Deno placement of added replicas", () => {
  const nodesOf = (group: string, ids: readonly number[], nodeIds: readonly number[]) => ids.map((id) => nodeOfReplica(group, id, nodeIds));
  const cluster = fc.constantFrom([1, 2, 3], [1, 2, 3, 4], [1, 2, 3, 4, 5], [2, 5, 9, 11]);

  it("adds on a node holding no replica of the group, with an unused id, and refuses when every node holds one", () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 40 }), cluster, (group, nodeIds) => {
      let replicas = [1, 2, 3];
      let idFrom = 4;
      for (let added = 3; added < nodeIds.length; added++) {
        const placed = replicaIdOnFreeNode({ group, replicas, idFrom }, nodeIds);
        if (!placed.ok) throw new Error(placed.detail);
        expect(placed.id).toBeGreaterThanOrEqual(idFrom);
        expect(placed.id).toBeLessThan(idFrom + nodeIds.length);
        replicas = [...replicas, placed.id];
        idFrom = placed.id + 1;
        expect(new Set(nodesOf(group, replicas, nodeIds)).size).toBe(replicas.length);
      }
      expect(replicaIdOnFreeNode({ group, replicas, idFrom }, nodeIds)).toEqual({ ok: false, code: "tooManyReplicas", detail: `every node of the cluster (${nodeIds.length}) already holds a replica of group ${group}; a group has at most one replica per node` });
    }));
  });

  it("replaces on a node holding none of the staying replicas, other than the leaving one's when there is such a node", () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 40 }), cluster, fc.integer({ min: 1, max: 3 }), (group, nodeIds, leaving) => {
      const replicas = [1, 2, 3];
      const placed = replicaIdOnFreeNode({ group, replicas, leaving, idFrom: 4 }, nodeIds);
      if (!placed.ok) throw new Error(placed.detail);
      const staying = replicas.filter((id) => id !== leaving);
      const nodes = nodesOf(group, [...staying, placed.id], nodeIds);
      expect(new Set(nodes).size).toBe(3);
      const leavingNode = nodeOfReplica(group, leaving, nodeIds);
      expect(nodes[2] === leavingNode).toBe(nodeIds.length === 3); // with a fourth node, the new replica goes there, not beside the leaving one
    }));
  });

  it("keeps the count when a smaller cluster already doubles a group up, and never refuses a replace", () => {
    // Two nodes: replicas 1 and 3 share a node. Replacing 2 puts the new one on 2's node again.
    const group = "small";
    const placed = replicaIdOnFreeNode({ group, replicas: [1, 2, 3], leaving: 2, idFrom: 4 }, [1, 2]);
    expect(placed.ok && nodeOfReplica(group, placed.id, [1, 2])).toBe(nodeOfReplica(group, 2, [1, 2]));
    expect(replicaIdOnFreeNode({ group, replicas: [1, 2, 3], idFrom: 4 }, [1, 2]).ok).toBe(false);
    expect(replicaIdOnFreeNode({ group, replicas: [1, 2, 3], leaving: 1, idFrom: 4 }, [7]).ok).toBe(true);
  });

  it("places only on a connected node, and answers unavailable rather than doubling up when none is", () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 3 }), (group, leaving) => {
      const nodeIds = [1, 2, 3, 4];
      const free = nodeIds.find((node) => ![1, 2, 3].some((id) => nodeOfReplica(group, id, nodeIds) === node))!;
      const up = (node: number) => node !== free;
      expect(replicaIdOnFreeNode({ group, replicas: [1, 2, 3], idFrom: 4 }, nodeIds, up)).toEqual({ ok: false, code: "unavailable", detail: `the nodes that can take a new replica of group ${group} (${free}) are not connected; try again once one is` });
      // A replace goes to the leaving replica's node when the free one is down (it holds none of the staying replicas)...
      const leavingNode = nodeOfReplica(group, leaving, nodeIds);
      const placed = replicaIdOnFreeNode({ group, replicas: [1, 2, 3], leaving, idFrom: 4 }, nodeIds, up);
      expect(placed.ok && nodeOfReplica(group, placed.id, nodeIds)).toBe(leavingNode);
      // ...and to the free one when the leaving replica's node is the one down.
      const rescued = replicaIdOnFreeNode({ group, replicas: [1, 2, 3], leaving, idFrom: 4 }, nodeIds, (node) => node !== leavingNode);
      expect(rescued.ok && nodeOfReplica(group, rescued.id, nodeIds)).toBe(free);
      // On three nodes with the leaving one's node down there is nowhere else: unavailable, not beside a staying replica.
      const three = [1, 2, 3];
      const down = nodeOfReplica(group, leaving, three);
      expect(replicaIdOnFreeNode({ group, replicas: [1, 2, 3], leaving, idFrom: 4 }, three, (node) => node !== down)).toMatchObject({ ok: false, code: "unavailable" });
    }));
  });

  it("lets a new group have one replica per node, and the default three on smaller clusters", () => {
    expect([[1], [1, 2], [1, 2, 3], [1, 2, 3, 4], [2, 4, 6, 8, 10]].map(replicasMaxOf)).toEqual([3, 3, 3, 4, 5]);
  });

  it("never hands out an id the group has, even below the next unused one", () => {
    const placed = replicaIdOnFreeNode({ group: "g", replicas: [1, 2, 3], leaving: 2, idFrom: 1 }, [1, 2, 3]);
    expect(placed).toEqual({ ok: true, id: 5 });
  });

  it("hands leadership back to replica 1, or to the voter that replaced it on its node", () => {
    const nodeIds = [1, 2, 3];
    for (let i = 0; i < 50; i++) {
      const group = `tenant-${i}`;
      expect(preferredLeaderOf(group, [1, 2, 3], nodeIds)).toBe(1);
      expect(preferredLeaderOf(group, [2, 3, 4], nodeIds)).toBe(4); // 4 replaced 1 on its node
      expect([2, 3]).toContain(preferredLeaderOf(group, [2, 3], nodeIds)); // replica 1's node holds no voter: one the name picks
    }
    expect(preferredLeaderOf("g", [], nodeIds)).toBeUndefined();
  });

  it("prefers, once replica 1's successor landed on another node, one of the voters, always the same for the group", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }), fc.integer({ min: 4, max: 7 }), (group, nodeCount) => {
        const nodeIds = Array.from({ length: nodeCount }, (_, i) => i + 1);
        // Replica 1 replaced on a node without a replica of the group (replicaIdOnFreeNode), as an operator's replace does.
        const placed = replicaIdOnFreeNode({ group, replicas: [1, 2, 3], leaving: 1, idFrom: 4 }, nodeIds);
        if (!placed.ok) throw new Error(placed.detail);
        const voters = [2, 3, placed.id];
        const preferred = preferredLeaderOf(group, voters, nodeIds)!;
        expect(voters).toContain(preferred);
        expect(preferredLeaderOf(group, [placed.id, 3, 2], [...nodeIds].reverse())).toBe(preferred);
        if (nodeOfReplica(group, placed.id, nodeIds) === nodeOfReplica(group, 1, nodeIds)) expect(preferred).toBe(placed.id);
      }),
    );
  });

  /** Preferred leaders per node of 2,000 groups on `nodeIds` once the replicas on `lost` (a node gone for good) were replaced on the others. */
  const leadersAfterLoss = (nodeIds: number[], lost: number) => {
    const leadersPerNode = new Map<number, number>();
    for (let i = 0; i < 2_000; i++) {
      const group = `tenant-${i}`;
      let voters = [1, 2, 3];
      for (const leaving of voters.filter((id) => nodeOfReplica(group, id, nodeIds) === lost)) {
        const placed = replicaIdOnFreeNode({ group, replicas: voters, leaving, idFrom: 4 }, nodeIds, (node) => node !== lost);
        if (!placed.ok) throw new Error(placed.detail);
        voters = [...voters.filter((id) => id !== leaving), placed.id];
      }
      const node = nodeOfReplica(group, preferredLeaderOf(group, voters, nodeIds)!, nodeIds);
      leadersPerNode.set(node, (leadersPerNode.get(node) ?? 0) + 1);
    }
    return leadersPerNode;
  };

  it("keeps the preferred leaders of 2,000 groups spread over the live nodes once a lost node's replicas were replaced", () => {
    for (const nodeIds of [[1, 2, 3, 4], [1, 2, 3, 4, 5]]) {
      for (const lost of nodeIds) {
        const leaders = leadersAfterLoss(nodeIds, lost);
        expect(leaders.has(lost)).toBe(false);
        const even = 2_000 / (nodeIds.length - 1);
        // No node takes much more than its share (the next node's voter, a fixed pick, gave one node
        // half of them on four nodes); on five, the node no replacement lands on leads only its own.
        for (const node of nodeIds.filter((id) => id !== lost)) {
          const share = (leaders.get(node) ?? 0) / even;
          expect(share, `${nodeIds.length} nodes, ${lost} lost, node ${node}`).toBeLessThan(1.15);
          expect(share, `${nodeIds.length} nodes, ${lost} lost, node ${node}`).toBeGreaterThan(nodeIds.length === 4 ? 0.85 : 0.75);
        }
      }
    }
  });
});

describe("Deno node arguments", () => {
  const env = (values: Record<string, string>) => (name: string) => values[name];
  const secret = { EDGERAFT_CLUSTER_SECRET: "0123456789abcdef", ADMIN_TOKEN: "admin" };

  it("round-trips the command line the cluster scripts build", () => {
    const args = nodeCommandLine({ id: 2, dataDirectory: "/data", ports: [8790, 8791, 8792], tickMs: 50 });
    const parsed = parseNodeArguments(args.slice(args.indexOf("--id")), env(secret));
    expect(parsed).toEqual({
      ok: true,
      options: {
        id: 2,
        dataDirectory: "/data/node-2",
        nodes: [1, 2, 3].map((id) => ({ id, host: "127.0.0.1", port: 8789 + id })),
        clusterSecret: "0123456789abcdef",
        adminToken: "admin",
        balance: { thresholds: defaultBalanceThresholds },
        syncDelay: defaultSyncDelay,
        timing: { tickMs: 50 },
      },
    });
    const off = nodeCommandLine({ id: 2, dataDirectory: "/data", ports: [8790, 8791, 8792], syncDelayMs: 0 });
    expect(parseNodeArguments(off.slice(off.indexOf("--id")), env(secret))).toMatchObject({ ok: true, options: { syncDelay: { ms: 0, siblings: defaultSyncDelay.siblings } } });
  });

  it("starts every node with the same V8 flags, from the cluster scripts and from `deno task node`", () => {
    const scripted = nodeCommandLine({ id: 1, dataDirectory: "/data", ports: [8790] });
    const flags = `--v8-flags=${nodeV8Flags.join(",")}`;
    expect(scripted.slice(0, 2)).toEqual(["run", flags]);
    const task = (JSON.parse(readFileSync("deno.json", "utf8")) as { tasks: { node: string } }).tasks.node.split(" ");
    expect(task.slice(1, 3)).toEqual(["run", flags]);
    expect(task.slice(3)).toEqual(scripted.slice(2, scripted.indexOf("--id")));
  });

  it("takes the group-commit delay and its siblings, and refuses values out of range", () => {
    const base = ["--id", "1", "--data", "/d", "--nodes", "1=127.0.0.1:1"];
    expect(parseNodeArguments([...base, "--sync-delay-ms", "2", "--sync-siblings", "32"], env(secret))).toMatchObject({ ok: true, options: { syncDelay: { ms: 2, siblings: 32 } } });
    for (const bad of ["-1", "soon", "", "0x10", " 4", "51"]) {
      expect(parseNodeArguments([...base, "--sync-delay-ms", bad], env(secret))).toEqual({ ok: false, error: "--sync-delay-ms must be an integer from 0 to 50" });
    }
    expect(parseNodeArguments([...base, "--sync-siblings", "0"], env(secret))).toEqual({ ok: false, error: "--sync-siblings must be a positive integer" });
  });

  it("refuses a missing or short secret, a node list without this node, and malformed entries", () => {
    const base = ["--id", "1", "--data", "/d", "--nodes", "1=127.0.0.1:1,2=127.0.0.1:2"];
    expect(parseNodeArguments(base, env({}))).toEqual({ ok: false, error: "EDGERAFT_CLUSTER_SECRET must be set (at least 16 characters)" });
    expect(parseNodeArguments(base, env({ EDGERAFT_CLUSTER_SECRET: "short" })).ok).toBe(false);
    expect(parseNodeArguments(["--id", "3", ...base.slice(2)], env(secret))).toEqual({ ok: false, error: "--nodes must list this node (3)" });
    expect(parseNodeArguments([...base.slice(0, 5), "1=localhost"], env(secret))).toEqual({ ok: false, error: "--nodes entry 1=localhost is not id=host:port" });
    expect(parseNodeArguments(["--id", "0", "--data", "/d"], env(secret))).toEqual({ ok: false, error: "--id must be a positive integer" });
    expect(parseNodeArguments(["--id"], env(secret)).ok).toBe(false);
    expect(parseNodeArguments([...base, "--quiesce", "never"], env(secret))).toEqual({ ok: false, error: "--quiesce must be on or off" });
    expect(parseNodeArguments([...base, "--tls-cert", "/c.pem"], env(secret))).toEqual({ ok: false, error: "--tls-cert and --tls-key go together" });
    expect(parseNodeArguments([...base, "--tls-cert", "", "--tls-key", "/k.pem"], env(secret))).toEqual({ ok: false, error: "--tls-cert and --tls-key name PEM files" });
  });

  it("passes --quiesce off through to the replicas' timing", () => {
    const args = nodeCommandLine({ id: 1, dataDirectory: "/data", ports: [8790, 8791], quiesce: false });
    const parsed = parseNodeArguments(args.slice(args.indexOf("--id")), env(secret));
    expect(parsed.ok && parsed.options.timing).toEqual({ quiesce: false });
    const quiet = nodeCommandLine({ id: 1, dataDirectory: "/data", ports: [8790, 8791] });
    const parsedQuiet = parseNodeArguments(quiet.slice(quiet.indexOf("--id")), env(secret));
    expect(parsedQuiet.ok && parsedQuiet.options.timing).toBeUndefined();
  });

  it("round-trips TLS files through the command line", () => {
    const tls = { certFile: "/etc/edgeraft/node.pem", keyFile: "/etc/edgeraft/node.key" };
    const args = nodeCommandLine({ id: 1, dataDirectory: "/data", ports: [8790, 8791], tls });
    const parsed = parseNodeArguments(args.slice(args.indexOf("--id")), env(secret));
    expect(parsed.ok && parsed.options.tls).toEqual(tls);
  });

  it("takes the thresholds of automatic splits and merges from the environment, as the Worker takes its vars", () => {
    const args = ["--id", "1", "--data", "/d", "--nodes", "1=127.0.0.1:8790"];
    const parsed = parseNodeArguments(args, env({ ...secret, SPLIT_KEYS: "200", SPLIT_WRITES_PER_SECOND: "20", MERGE_KEYS: "60", SPLIT_BYTES: "not a number", IDLE_AFTER_MS: "2000" }));
    expect(parsed.ok && parsed.options.balance).toEqual({
      thresholds: { splitKeys: 200, splitBytes: defaultBalanceThresholds.splitBytes, splitWritesPerSecond: 20, mergeKeys: 60 },
      idleAfterMs: 2000,
    });
  });
});
