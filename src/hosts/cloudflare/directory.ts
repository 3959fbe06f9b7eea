/**
 * Reaching replicas from the Worker: a Durable Object stub per call, by deterministic name. Stubs
 * are not kept across calls: in a Worker, a stub made while serving one request cannot be used
 * while serving another ("Cannot perform I/O on behalf of a different request"), and a stub is
 * cheap to make. Object ids are cached, since they are plain values.
 */
import type { GroupDescriptor, ReplicaDirectory } from "../../router/cluster-client/directory.ts";
import type { Env } from "./env.ts";
import { replicaName } from "./transport.ts";

/** A ReplicaDirectory over the REPLICA and META Durable Object namespaces. */
export class DurableObjectDirectory implements ReplicaDirectory {
  private readonly env: Env;
  private readonly ids = new Map<string, DurableObjectId>();

  constructor(env: Env) {
    this.env = env;
  }

  call(group: GroupDescriptor, id: number, path: string, body: unknown): Promise<Response> {
    const init: RequestInit = body === undefined ? { method: "GET" } : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } };
    return this.stub(group, id).fetch(`https://replica${path}`, init);
  }

  private stub(group: GroupDescriptor, id: number): DurableObjectStub {
    const namespace = group.name === "meta" ? this.env.META : this.env.REPLICA;
    const name = replicaName(group.name, id);
    let objectId = this.ids.get(name);
    if (objectId === undefined) {
      objectId = namespace.idFromName(name);
      this.ids.set(name, objectId);
    }
    const location = group.replicas.find((replica) => replica.id === id)?.location as DurableObjectLocationHint | undefined;
    return location === undefined ? namespace.get(objectId) : namespace.get(objectId, { locationHint: location });
  }
}
