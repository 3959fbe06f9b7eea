/** The admin commands: groups ls|show|create|rm|split|merge|transfer-leader, ranges move, tenants token, health and top. */
import type { GroupSpec } from "../client/index.ts";
import { stringFlag, type Command, type CommandContext } from "./command.ts";
import { describeOwnerships, describeRanges, formatLagSeconds, groupLagSecondsOf, groupsTable, lagOf, replicasTable } from "./groups-view.ts";
import { integerFlag } from "./input.ts";
import { exitCodes, say, sayJson, table, UsageError } from "./output.ts";

function onlyName(context: CommandContext, usage: string): string {
  const name = context.positionals[0];
  if (name === undefined || context.positionals.length > 1) throw new UsageError(`usage: edgeraft ${usage}`);
  return name;
}

const groupsList: Command = {
  name: "groups ls",
  usage: "groups ls",
  summary: "list groups with what they own, their leader, term, lag and health",
  flags: {},
  async run(context) {
    const [groups, health] = await Promise.all([context.client.groups.list(), context.client.health()]);
    if (context.json) sayJson({ groups, health });
    else say(groupsTable(groups, health));
    return exitCodes.ok;
  },
};

const groupsShow: Command = {
  name: "groups show",
  usage: "groups show NAME",
  summary: "one group: what it owns, and each replica's location, role, commit, applied, lag",
  flags: {},
  async run(context) {
    const detail = await context.client.groups.get(onlyName(context, this.usage));
    if (context.json) {
      sayJson(detail);
      return exitCodes.ok;
    }
    say(`group ${detail.name} (${detail.state}, epoch ${detail.epoch}${detail.auto === true ? ", automatic" : ""}): owns ${describeOwnerships(detail.owns)}`);
    if (detail.ranges !== undefined) say(`serves ${describeRanges(detail.ranges)}`);
    say(`leader ${detail.health.leader === 0 ? "none" : detail.health.leader}, term ${detail.health.term}, ${detail.health.healthy ? "healthy" : "NOT healthy"}`);
    say(replicasTable(detail, detail.health));
    return exitCodes.ok;
  },
};

const groupsCreate: Command = {
  name: "groups create",
  usage: "groups create NAME (--prefix P | --start S [--end E]) [--replicas N] [--locations a,b,c]",
  summary: "create a group owning a prefix or a range (it must hold no keys yet)",
  flags: { prefix: { type: "string" }, start: { type: "string" }, end: { type: "string" }, replicas: { type: "string" }, locations: { type: "string" } },
  async run(context) {
    const name = onlyName(context, this.usage);
    const replicas = integerFlag(context.flags.replicas, "replicas", 1);
    const locations = stringFlag(context.flags, "locations")?.split(",").map((location) => location.trim()).filter((location) => location !== "");
    const spec: GroupSpec = {
      name,
      ...Object.fromEntries((["prefix", "start", "end"] as const).flatMap((bound) => (stringFlag(context.flags, bound) === undefined ? [] : [[bound, stringFlag(context.flags, bound)]]))),
      ...(replicas === undefined ? {} : { replicas }),
      ...(locations === undefined ? {} : { locations }),
    };
    const created = await context.client.groups.create(spec);
    if (context.json) sayJson(created);
    else say(`created group ${created.name}: owns ${describeOwnerships(created.owns)}, replicas ${created.replicas.map((replica) => `${replica.id}@${replica.location}`).join(" ")}`);
    return exitCodes.ok;
  },
};

const groupsRemove: Command = {
  name: "groups rm",
  usage: "groups rm NAME",
  summary: "remove a group (not the default group)",
  flags: {},
  async run(context) {
    const name = onlyName(context, this.usage);
    await context.client.groups.remove(name);
    if (context.json) sayJson({ name, deleted: true });
    else say(`removed group ${name}`);
    return exitCodes.ok;
  },
};

const groupsSplit: Command = {
  name: "groups split",
  usage: "groups split NAME [--at KEY] [--name NEW]",
  summary: "move the group's ranges from KEY on (default: its median key) into a new group",
  flags: { at: { type: "string" }, name: { type: "string" } },
  async run(context) {
    const name = onlyName(context, this.usage);
    const at = stringFlag(context.flags, "at");
    const newName = stringFlag(context.flags, "name");
    const created = await context.client.groups.splitGroup(name, { ...(at === undefined ? {} : { at }), ...(newName === undefined ? {} : { name: newName }) });
    if (context.json) sayJson(created);
    else say(`split ${name}: new group ${created.name} serves ${describeRanges(created.ranges)}`);
    return exitCodes.ok;
  },
};

const groupsMerge: Command = {
  name: "groups merge",
  usage: "groups merge NAME --with OTHER",
  summary: "NAME absorbs the adjacent group OTHER, which is then removed",
  flags: { with: { type: "string" } },
  async run(context) {
    const name = onlyName(context, this.usage);
    const other = stringFlag(context.flags, "with");
    if (other === undefined) throw new UsageError(`usage: edgeraft ${this.usage}`);
    const merged = await context.client.groups.mergeGroups(name, other);
    if (context.json) sayJson(merged);
    else say(`merged ${other} into ${merged.name}: it serves ${describeRanges(merged.ranges)}`);
    return exitCodes.ok;
  },
};

const groupsTransferLeader: Command = {
  name: "groups transfer-leader",
  usage: "groups transfer-leader NAME [--to ID]",
  summary: "hand the group's leadership to replica ID (default: the best one by locality, load and leaderships); waits until done",
  flags: { to: { type: "string" } },
  async run(context) {
    const name = onlyName(context, this.usage);
    const to = integerFlag(context.flags.to, "to", 1);
    const transfer = await context.client.groups.transferLeader(name, to);
    if (context.json) sayJson(transfer);
    else if (!transfer.transferred) say(`${name}: replica ${transfer.leader} leads already (term ${transfer.term})`);
    else say(`${name}: leadership moved from replica ${transfer.previous} to replica ${transfer.leader} (term ${transfer.term})`);
    return exitCodes.ok;
  },
};

const rangesMove: Command = {
  name: "ranges move",
  usage: "ranges move --start KEY [--end KEY] --to GROUP",
  summary: "move every part of [start, end) another group serves to GROUP (no --end: to the end of the keyspace)",
  flags: { start: { type: "string" }, end: { type: "string" }, to: { type: "string" } },
  async run(context) {
    const start = stringFlag(context.flags, "start");
    const end = stringFlag(context.flags, "end");
    const to = stringFlag(context.flags, "to");
    if (start === undefined || to === undefined || context.positionals.length > 0) throw new UsageError(`usage: edgeraft ${this.usage}`);
    const result = await context.client.groups.moveRange(end === undefined ? { start } : { start, end }, to);
    if (context.json) sayJson(result);
    else {
      say(`moved ${describeRanges([result])} to ${to}: ${result.moves.length} range${result.moves.length === 1 ? "" : "s"}, ${result.moves.reduce((sum, move) => sum + move.moved, 0)} records`);
      for (const move of result.moves) say(`  ${describeRanges([move])}: ${move.moved} records`);
    }
    return exitCodes.ok;
  },
};

const tenantsToken: Command = {
  name: "tenants token",
  usage: "tenants token TENANT",
  summary: "issue a new token for a tenant (printed once; the server keeps its hash)",
  flags: {},
  async run(context) {
    const issued = await context.client.tenants.issueToken(onlyName(context, this.usage));
    if (context.json) sayJson(issued);
    else say(issued.token);
    return exitCodes.ok;
  },
};

const health: Command = {
  name: "health",
  usage: "health [--lag-entries N] [--lag-seconds N]",
  summary: "each group's leader, term, lag (entries and seconds) and health, counts and reasons; exit 1 when the cluster is not healthy",
  flags: { "lag-entries": { type: "string" }, "lag-seconds": { type: "string" } },
  async run(context) {
    const lagEntries = integerFlag(context.flags["lag-entries"], "lag-entries", 0);
    const lagSeconds = integerFlag(context.flags["lag-seconds"], "lag-seconds", 0);
    const answer = await context.client.health({ ...(lagEntries === undefined ? {} : { lagEntries }), ...(lagSeconds === undefined ? {} : { lagSeconds }) });
    if (context.json) sayJson(answer);
    else {
      const rows = answer.groups.map((group) => {
        const lags = group.replicas.map((replica) => lagOf(group, replica.id) ?? 0);
        return [group.name, group.leader === 0 ? "none" : group.leader, group.term,
          `${group.replicas.filter((replica) => replica.reachable).length}/${group.replicas.length}`,
          lags.length === 0 ? "" : Math.max(...lags), formatLagSeconds(groupLagSecondsOf(group)), group.healthy ? "yes" : "NO"];
      });
      say(table(["GROUP", "LEADER", "TERM", "REACHABLE", "LAG", "LAG TIME", "HEALTHY"], rows));
      if (answer.counts !== undefined) {
        const counts = answer.counts;
        const limits = `over ${answer.lagEntriesMax} entries${answer.lagSecondsMax === undefined ? "" : ` or ${answer.lagSecondsMax} s`}`;
        say(`${counts.total} groups: ${counts.withLeader} with a leader, ${counts.healthy} healthy, ${counts.lagging} lagging (${limits}), ${counts.quiesced} quiesced`);
      }
      for (const reason of answer.reasons ?? []) say(`  ${reason.code}: ${reason.detail}`);
      say(answer.healthy ? "cluster healthy" : "cluster NOT healthy");
    }
    return answer.healthy ? exitCodes.ok : exitCodes.notFoundOrConditionFailed;
  },
};

const top: Command = {
  name: "top",
  usage: "top [--interval SECONDS] [--iterations N]",
  summary: "a live view of the groups, refreshed every --interval seconds (default 2) until Ctrl-C",
  flags: { interval: { type: "string" }, iterations: { type: "string" } },
  async run(context) {
    const intervalMs = (integerFlag(context.flags.interval, "interval", 1) ?? 2) * 1000;
    const iterations = integerFlag(context.flags.iterations, "iterations", 1) ?? Number.POSITIVE_INFINITY;
    const clear = process.stdout.isTTY === true && !context.json;
    for (let iteration = 1; iteration <= iterations; iteration++) {
      const began = Date.now();
      const [groups, health] = await Promise.all([context.client.groups.list(), context.client.health()]);
      if (context.json) sayJson({ at: new Date().toISOString(), groups, health });
      else {
        const header = `edgeraft top: ${context.client.url}  ${new Date().toISOString().slice(11, 19)} UTC  ${groups.length} groups, ${health.healthy ? "healthy" : "NOT healthy"}`;
        process.stdout.write(`${clear ? "\x1b[2J\x1b[H" : ""}${header}\n\n${groupsTable(groups, health)}\n${clear ? "" : "\n"}`);
      }
      if (iteration < iterations) await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (Date.now() - began))));
    }
    return exitCodes.ok;
  },
};

/** groups ls|show|create|rm|split|merge|transfer-leader, ranges move, tenants token, health, top. */
export const adminCommands: readonly Command[] = [groupsList, groupsShow, groupsCreate, groupsRemove, groupsSplit, groupsMerge, groupsTransferLeader, rangesMove, tenantsToken, health, top];
