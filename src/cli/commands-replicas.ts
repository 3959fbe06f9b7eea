/** The replica commands: groups replicas add|rm|replace. */
import { stringFlag, type Command, type CommandContext } from "./command.ts";
import { exitCodes, say, sayJson, UsageError } from "./output.ts";

/** NAME, or NAME and a replica ID, from the positionals; a usage error otherwise. */
function nameAndId(context: CommandContext, usage: string, withId: boolean): { name: string; id: number } {
  const [name, rawId, ...rest] = context.positionals;
  const id = Number(rawId);
  if (name === undefined || rest.length > 0 || (withId ? !/^[1-9][0-9]*$/.test(rawId ?? "") : rawId !== undefined)) throw new UsageError(`usage: edgeraft ${usage}`);
  return { name, id };
}

function describeReplicas(replicas: readonly { id: number; location: string }[]): string {
  return replicas.map((replica) => `${replica.id}@${replica.location}`).join(" ");
}

const replicasAdd: Command = {
  name: "groups replicas add",
  usage: "groups replicas add NAME [--location L]",
  summary: "add a replica (it catches up as a learner, then becomes a voter)",
  flags: { location: { type: "string" } },
  async run(context) {
    const { name } = nameAndId(context, this.usage, false);
    const location = stringFlag(context.flags, "location");
    const group = await context.client.groups.addReplica(name, location === undefined ? {} : { location });
    if (context.json) sayJson(group);
    else say(`added replica ${group.replica} to ${name}: replicas ${describeReplicas(group.replicas)}`);
    return exitCodes.ok;
  },
};

const replicasRemove: Command = {
  name: "groups replicas rm",
  usage: "groups replicas rm NAME ID",
  summary: "remove a replica (leadership moves away first; at least 3 replicas stay)",
  flags: {},
  async run(context) {
    const { name, id } = nameAndId(context, this.usage, true);
    const group = await context.client.groups.removeReplica(name, id);
    if (context.json) sayJson(group);
    else say(`removed replica ${id} from ${name}: replicas ${describeReplicas(group.replicas)}`);
    return exitCodes.ok;
  },
};

const replicasReplace: Command = {
  name: "groups replicas replace",
  usage: "groups replicas replace NAME ID [--location L]",
  summary: "replace a replica by a new one (added and caught up before the old one leaves)",
  flags: { location: { type: "string" } },
  async run(context) {
    const { name, id } = nameAndId(context, this.usage, true);
    const location = stringFlag(context.flags, "location");
    const group = await context.client.groups.replaceReplica(name, id, location === undefined ? {} : { location });
    if (context.json) sayJson(group);
    else say(`replaced replica ${id} of ${name} by ${group.replica}: replicas ${describeReplicas(group.replicas)}`);
    return exitCodes.ok;
  },
};

/** groups replicas add|rm|replace. */
export const replicaCommands: readonly Command[] = [replicasAdd, replicasRemove, replicasReplace];
