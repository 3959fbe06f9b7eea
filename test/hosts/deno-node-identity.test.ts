/**
 * Proves the check a Deno node makes of its data directory at start (node-identity.ts): a
 * directory that recorded another node id, or other node ids for its cluster, is refused with what
 * to start instead; the order of the ids given does not matter; a directory made before the
 * identity was recorded is refused when it holds a replica that the node ids place on another
 * node (whichever replica of whichever group), and accepted when every replica it holds is placed here.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { identityRefusal } from "../../src/hosts/deno/node-identity.ts";
import { nodeOfReplica } from "../../src/hosts/deno/placement.ts";

const nodes = [1, 2, 3];
/** Which of replicas 1 to 5 of `group` the node ids `ids` place on `node`. */
const placedOn = (group: string, node: number, ids = nodes) => [1, 2, 3, 4, 5].filter((replica) => nodeOfReplica(group, replica, ids) === node).map((replica) => ({ group, replica }));

describe("a Deno node's data directory identity", () => {
  it("starts as the node and cluster it recorded, whatever the order of the ids", () => {
    const held = placedOn("default", 2);
    expect(held.length).toBeGreaterThan(0);
    expect(identityRefusal("/data/n2", { node: 2, nodes }, { node: 2, nodes: [3, 1, 2] }, held)).toBeUndefined();
  });

  it("refuses another node id, naming the one to use", () => {
    const refusal = identityRefusal("/data/n1", { node: 1, nodes }, { node: 2, nodes }, placedOn("default", 1));
    expect(refusal).toMatch(/^\/data\/n1 is the data directory of node 1, not of node 2: start it with --id 1/);
  });

  it("refuses other node ids (a node added or removed), naming the recorded ones", () => {
    expect(identityRefusal("/data/n1", { node: 1, nodes }, { node: 1, nodes: [1, 2, 3, 4] }, [])).toMatch(/made in a cluster of nodes 1, 2, 3, and --nodes names nodes 1, 2, 3, 4: .* Start with --nodes naming nodes 1, 2, 3/);
    expect(identityRefusal("/data/n1", { node: 1, nodes }, { node: 1, nodes: [1, 2] }, [])).toMatch(/nodes 1, 2, 3, and --nodes names nodes 1, 2:/);
  });

  it("refuses a directory without a record that holds a replica placed on another node, and accepts one whose replicas are all placed here", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 3 }), (groups, self) => {
        const here = groups.flatMap((group) => placedOn(group, self));
        expect(identityRefusal("/d", undefined, { node: self, nodes }, here)).toBeUndefined();
        const elsewhere = placedOn(groups[0]!, (self % 3) + 1)[0]!;
        const refusal = identityRefusal("/d", undefined, { node: self, nodes }, [...here, elsewhere]);
        expect(refusal).toBe(`/d holds replica ${elsewhere.replica} of group ${elsewhere.group}, which nodes 1, 2, 3 place on node ${(self % 3) + 1}, not on node ${self}: is it node ${(self % 3) + 1}'s directory, or did the node ids in --nodes change?`);
      }),
    );
  });

  it("catches a node list changed on a directory without a record: the same replicas land elsewhere with a fourth node", () => {
    const groups = Array.from({ length: 20 }, (_, i) => `tenant-${i}`);
    const held = groups.flatMap((group) => placedOn(group, 1));
    expect(identityRefusal("/d", undefined, { node: 1, nodes }, held)).toBeUndefined();
    expect(identityRefusal("/d", undefined, { node: 1, nodes: [1, 2, 3, 4] }, held)).toMatch(/place on node [234], not on node 1/);
  });
});
