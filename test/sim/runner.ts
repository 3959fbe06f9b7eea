/**
 * Runs one seed end to end: a safety phase of `steps` steps with every fault the seed enables,
 * then the liveness phase, then the linearizability check of the clients' history. Any exception
 * (a broken invariant, an engine assertion, a stuck group, a non-linearizable history) fails the
 * seed; the result says what failed and how to replay it.
 */
import { checkHistory, describeKeyFailure, describeSummary } from "../../src/checker/index.ts";
import { describeOptions, optionsFromSeed, wipeProbabilityOf } from "./options.ts";
import { runLiveness } from "./liveness.ts";
import { Nemesis } from "./nemesis.ts";
import { Workload } from "./workload.ts";
import { World, type TraceSink } from "./world.ts";
import type { SimulationStats } from "./stats.ts";

/** Steps of the safety phase when none are given. */
export const stepsDefault = 3000;

/** Search budget of the linearizability check per seed (about 15 seconds in the worst case). */
const checkStepsMax = 200_000_000;

/** What to run. */
export interface RunRequest {
  seed: number;
  steps: number;
  /** Receives the event trace (verbose mode). */
  trace?: TraceSink;
  /** The nemesis also wipes disks (options.ts wipeProbabilityOf): replicas restart empty, fenced and recovering. */
  wipes?: boolean;
}

/** The outcome of one seed. */
export interface RunResult {
  seed: number;
  steps: number;
  /** Null when the seed passed. */
  failure: string | null;
  /** Where it failed: the safety phase, the liveness phase or the history check. */
  phase: "safety" | "liveness" | "history" | null;
  /** The seed's settings, for the failure report. */
  settings: string;
  stats: SimulationStats;
}

/** Runs one seed; never throws for a failure of the system under test. */
export function runSimulation(request: RunRequest): RunResult {
  const options = optionsFromSeed(request.seed);
  if (request.wipes === true) options.nemesis.wipeProbability = wipeProbabilityOf(request.seed);
  const world = new World(options, request.trace ?? null);
  const workload = new Workload(world, world.clientRng, options.workload);
  const nemesis = new Nemesis(world, workload, world.nemesisRng, options.nemesis);
  let phase: RunResult["phase"] = "safety";
  let failure: string | null = null;
  world.log(`seed ${request.seed}: ${describeOptions(options)}`);
  try {
    world.onTick = () => {
      workload.onTick();
      nemesis.onTick();
    };
    while (world.steps < request.steps) world.step();
    phase = "liveness";
    nemesis.endQuiet();
    world.onTick = () => workload.onTick();
    runLiveness(world, workload);
    phase = "history";
    failure = historyFailure(workload);
  } catch (error) {
    failure = error instanceof Error ? `${error.name}: ${error.message}\n${stackOf(error)}` : String(error);
  }
  return {
    seed: request.seed,
    steps: request.steps,
    failure,
    phase: failure === null ? null : phase,
    settings: describeOptions(options),
    stats: world.finishStats(),
  };
}

/** Why the history is not linearizable, or null when it is. */
function historyFailure(workload: Workload): string | null {
  const result = checkHistory(workload.recorder.operations(), { stepsMax: checkStepsMax });
  if (result.outcome === "linearizable") return null;
  if (result.outcome === "unknown") return `linearizability check ran out of its budget: ${describeSummary(result)}`;
  const lines = [describeSummary(result)];
  for (const key of result.keys) if (key.outcome === "violation") lines.push(...describeKeyFailure(key));
  return lines.join("\n");
}

/** The top frames of an error's stack (where in the engine or simulator it was thrown). */
function stackOf(error: Error): string {
  return (error.stack ?? "").split("\n").slice(1, 7).join("\n");
}

/** The command that replays a seed. */
export function replayCommand(seed: number, steps: number, wipes = false): string {
  return `npm run sim -- --seed ${seed}${steps === stepsDefault ? "" : ` --steps ${steps}`}${wipes ? " --wipes" : ""}`;
}
