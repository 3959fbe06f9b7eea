/**
 * Proves, under Deno, that a node checks its data directory at start (node-identity.ts): the first
 * start records the node's id and its cluster's node ids; a start under another id or with other
 * node ids throws with what to do and leaves the directory as it was; new addresses are fine; and
 * a directory from before the record (replica rows, no identity) is refused when it holds a
 * replica placed on another node, and accepted, then recorded, by the node that holds it.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { ClusterNode } from "../../src/hosts/deno/cluster-node.ts";
import { NodeStorage } from "../../src/hosts/deno/node-storage.ts";
import { NodeReplica } from "../../src/hosts/deno/node-replica.ts";
import { nodeOfReplica } from "../../src/hosts/deno/placement.ts";

const root = mkdtempSync(join(tmpdir(), "edgeraft-deno-node-identity-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const addresses = (count: number, portFrom = 1) => Array.from({ length: count }, (_, i) => ({ id: i + 1, host: "127.0.0.1", port: portFrom + i }));
const start = (id: number, dataDirectory: string, nodes = addresses(3)) => new ClusterNode({ id, nodes, dataDirectory, clusterSecret: "s".repeat(32), adminToken: undefined });
/** The node_identity row of a directory, read through a connection of its own. */
const recorded = (dataDirectory: string) => {
  const reader = new DatabaseSync(join(dataDirectory, "node.sqlite"));
  const rows = reader.prepare("SELECT node, nodes FROM node_identity").all();
  reader.close();
  return rows.map((row) => ({ node: Number(row.node), nodes: String(row.nodes) }));
};

describe("a Deno node's data directory identity", () => {
  it("records the node at its first start and refuses another id or other node ids, not new addresses", () => {
    const directory = join(root, "node-1");
    start(1, directory).stop();
    expect(recorded(directory)).toEqual([{ node: 1, nodes: "[1,2,3]" }]);
    expect(() => start(2, directory)).toThrow(`${directory} is the data directory of node 1, not of node 2: start it with --id 1`);
    expect(() => start(1, directory, addresses(4))).toThrow(/was made in a cluster of nodes 1, 2, 3, and --nodes names nodes 1, 2, 3, 4/);
    expect(recorded(directory)).toEqual([{ node: 1, nodes: "[1,2,3]" }]);
    start(1, directory, addresses(3, 9001)).stop(); // other ports, the same ids
  });

  it("refuses a directory made before the record that holds another node's replica, and records the node that holds it", () => {
    const directory = join(root, "old");
    mkdirSync(directory);
    const storage = new NodeStorage(join(directory, "node.sqlite"), { failed: (error) => { throw error; } });
    const replica = new NodeReplica({ storage, scope: "tenant-a/2", timing: {}, send: () => {}, wake: () => {}, failed: (_replica, error) => { throw error; } });
    replica.bootstrap({ group: "tenant-a", replica: 2, voters: [1, 2, 3], locations: {}, owns: { prefix: "a/" }, epoch: 1 });
    replica.close();
    storage.close();
    const owner = nodeOfReplica("tenant-a", 2, [1, 2, 3]);
    const other = (owner % 3) + 1;
    expect(() => start(other, directory)).toThrow(`${directory} holds replica 2 of group tenant-a, which nodes 1, 2, 3 place on node ${owner}, not on node ${other}: is it node ${owner}'s directory, or did the node ids in --nodes change?`);
    expect(recorded(directory)).toEqual([]);
    start(owner, directory).stop();
    expect(recorded(directory)).toEqual([{ node: owner, nodes: "[1,2,3]" }]);
  });
});
