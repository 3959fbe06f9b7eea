/** Reaching replicas from the Worker: Durable Object stubs by deterministic name, re-created after a failure. */
import type { GroupDescriptor, ReplicaDirectory } from "../../router/cluster-client/directory.ts";
import type { Env } from "./env.ts";
import { replicaName } from "./transport.ts";

/** A ReplicaDirectory over the REPLICA and META Durable Object namespaces. */
export class DurableObjectDirectory implements ReplicaDirectory {
  private readonly env: Env;
  private readonly stubs = new Map<string, DurableObjectStub>();

  constructor(env: Env) {
    this.env = env;
  }

  async call(group: GroupDescriptor, id: number, path: string, body: unknown): Promise<Response> {
    const name = replicaName(group.name, id);
    const init: RequestInit = body === undefined ? { method: "GET" } : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } };
    try {
      return await this.stub(group, id, name).fetch(`https://replica${path}`, init);
    } catch (error) {
      this.stubs.delete(name); // a stub whose call failed fails every later call
      throw error;
    }
  }

  private stub(group: GroupDescriptor, id: number, name: string): DurableObjectStub {
    let stub = this.stubs.get(name);
    if (stub === undefined) {
      const namespace = group.name === "meta" ? this.env.META : this.env.REPLICA;
      const location = group.replicas.find((replica) => replica.id === id)?.location as DurableObjectLocationHint | undefined;
      const objectId = namespace.idFromName(name);
      stub = location === undefined ? namespace.get(objectId) : namespace.get(objectId, { locationHint: location });
      this.stubs.set(name, stub);
    }
    return stub;
  }
}
