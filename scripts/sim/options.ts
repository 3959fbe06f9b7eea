/**
 * The command line the simulator scripts share (scripts/sim.ts, scripts/sim-multigroup.ts): one
 * seed replayed (`--seed N`, with `--verbose` for its trace) or a campaign of seeds
 * (`--seeds K --seed-start N --jobs J`), `--steps S` for either, plus each script's own on/off flags.
 */
import { availableParallelism } from "node:os";

/** Worker threads when --jobs is not given: the machine's parallelism, at most 8. */
export const jobsDefault = Math.min(availableParallelism(), 8);

/** What sets one simulator script's command line apart from the other's. */
export interface SimulatorCommand {
  /** The npm script that runs it, as the usage line names it ("sim", "sim:multigroup"). */
  name: string;
  stepsDefault: number;
  /** Its own on/off flags, such as "--stale-drivers"; none may be a shared option. */
  flags: readonly string[];
}

/** A parsed command line: which seeds to run, how long, and how. */
export interface CampaignOptions {
  /** The campaign runs seeds seedStart .. seedStart + seedsCount - 1. */
  seedStart: number;
  seedsCount: number;
  steps: number;
  /** Print the event trace of the one seed (seedsCount is then 1). */
  verbose: boolean;
  /** Worker threads, at least 1. */
  jobs: number;
  /** The script's own flags that were given, in command-line order (plain data: it goes to worker threads). */
  flags: string[];
}

const valuedOptions = ["--seed", "--seed-start", "--seeds", "--steps", "--jobs"];

/** The usage line printed with every command-line error. */
export function usageOf(command: SimulatorCommand): string {
  const flags = command.flags.map((flag) => ` [${flag}]`).join("");
  return `usage: npm run ${command.name} -- (--seed N [--verbose] | --seeds K [--seed-start N] [--jobs J]) [--steps S]${flags}`;
}

/** Parses `list` (the arguments after the script); returns the problem as a string on bad usage. */
export function parseCampaignOptions(command: SimulatorCommand, list: readonly string[]): CampaignOptions | string {
  const parsed: CampaignOptions = { seedStart: 1, seedsCount: 1, steps: command.stepsDefault, verbose: false, jobs: jobsDefault, flags: [] };
  let single = false;
  for (let index = 0; index < list.length; index++) {
    const name = list[index]!;
    if (name === "--verbose") parsed.verbose = true;
    else if (command.flags.includes(name)) parsed.flags.push(name);
    else if (!valuedOptions.includes(name)) return `unknown option ${name}`;
    else {
      const value = Number(list[++index]);
      if (!Number.isSafeInteger(value) || value < 0) return `${name} needs a non-negative integer`;
      if (name === "--seed") single = true;
      setValued(parsed, name, value);
    }
  }
  // --seed replays exactly one seed, wherever it stands among the options.
  if (single) parsed.seedsCount = 1;
  if (parsed.verbose && parsed.seedsCount !== 1) return "--verbose traces one seed: use it with --seed";
  return parsed;
}

function setValued(parsed: CampaignOptions, name: string, value: number): void {
  if (name === "--seed" || name === "--seed-start") parsed.seedStart = value;
  else if (name === "--seeds") parsed.seedsCount = value;
  else if (name === "--steps") parsed.steps = value;
  else parsed.jobs = Math.max(1, value);
}
