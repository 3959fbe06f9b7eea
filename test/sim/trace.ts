/** Short readable renderings of messages and configurations for the simulator's event trace and reports. */
import type { ConfState, Message } from "../../src/raft/types.ts";

/** One message on one line, e.g. `app 1->2 term 3 prev (7, 2) entries 8..9 commit 6`. */
export function describeMessage(message: Message): string {
  const parts = [`${message.type} ${message.from}->${message.to} term ${message.term}`];
  switch (message.type) {
    case "app": {
      parts.push(`prev (${message.index}, ${message.logTerm})`);
      const first = message.entries[0];
      const last = message.entries[message.entries.length - 1];
      if (first !== undefined && last !== undefined) parts.push(`entries ${first.index}..${last.index}`);
      parts.push(`commit ${message.commit}`);
      break;
    }
    case "appResp":
      parts.push(message.reject ? `reject ${message.index} hint (${message.rejectHint}, ${message.logTerm})` : `match ${message.index}`);
      break;
    case "vote":
    case "preVote":
      parts.push(`last (${message.index}, ${message.logTerm})${message.transfer ? " transfer" : ""}`);
      break;
    case "voteResp":
    case "preVoteResp":
      parts.push(message.reject ? "rejected" : "granted");
      break;
    case "heartbeat":
    case "heartbeatResp":
      parts.push(`commit ${message.commit}${message.quiesce ? " quiesce" : ""}${message.context === "" ? "" : ` read ${message.context}`}`);
      break;
    case "snap": {
      const chunk = message.snapshot;
      if (chunk !== null) parts.push(`snapshot (${chunk.meta.index}, ${chunk.meta.term}) bytes ${chunk.offset}+${chunk.data.byteLength}/${chunk.totalBytes}`);
      break;
    }
    case "snapResp":
      parts.push(`snapshot ${message.index} offset ${message.rejectHint}${message.reject ? " reject" : ""}`);
      break;
    case "readIndex":
    case "readIndexResp":
      parts.push(`read ${message.context} index ${message.index}`);
      break;
    case "prop":
      parts.push(`${message.entries.length} entries`);
      break;
    default:
      break;
  }
  return parts.join(" ");
}

/** A canonical one-line form of a configuration. */
export function describeConf(conf: ConfState): string {
  const outgoing = conf.votersOutgoing.length > 0 ? ` outgoing ${conf.votersOutgoing.join(",")}` : "";
  const learners = conf.learners.length > 0 ? ` learners ${conf.learners.join(",")}` : "";
  const next = conf.learnersNext.length > 0 ? ` learnersNext ${conf.learnersNext.join(",")}` : "";
  return `voters ${conf.voters.join(",")}${outgoing}${learners}${next}${conf.autoLeave ? " autoLeave" : ""}`;
}
