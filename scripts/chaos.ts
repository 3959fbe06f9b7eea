/**
 * The fault campaign against a real `wrangler dev` with FAULTS=on (see docs/chaos.md).
 *
 *   npm run chaos                      full run: three scenarios of 75 s of workload each (about 5 minutes)
 *   npm run chaos -- --quick           short run for CI: 30 s of workload each (about 2 minutes)
 *   npm run chaos -- --seed N --clients C --duration SECONDS --out DIRECTORY
 *
 * Scenario "one-group": clients on the keys of one group while the nemesis crashes its replicas,
 * isolates its leader, drops a fifth of its messages, heals, and kills and restarts the whole
 * wrangler dev process. Scenario "groups": the same with keys spread over four groups and every
 * group fault aimed at one of them. Scenario "reshape": keys shape/0..9 of one group while a
 * reshaper loops (split at shape/5 into shape-hi, move [shape/3, shape/5) over to shape-hi, merge
 * shape-hi back) and the nemesis attacks the group that is split. Scenario "bank": transfers and
 * snapshot reads as cross-group transactions over 16 accounts in four groups while faults hit two
 * of them; every snapshot must sum to the total and the history must be strictly serializable
 * (scripts/chaos/bank-scenario.ts). `--scenario NAME` runs one
 * scenario only. Each history is checked for linearizability and written to a JSON Lines file. Exit code 0 when every scenario passes; 1 on a violation (not linearizable, an
 * acknowledged write lost, a value no write explains, a key unreadable at the end, a 500); 2 on
 * bad usage or when the campaign could not run (wrangler dev did not start).
 */
import { runScenario, type GroupPlan, type ScenarioOptions } from "./chaos/scenario.ts";
import { describeScenario, scenarioPassed } from "./chaos/report.ts";
import { describeBankScenario, runBankScenario } from "./chaos/bank-scenario.ts";

const usage = "usage: npm run chaos -- [--quick] [--seed N] [--clients C] [--duration SECONDS] [--out DIRECTORY] [--scenario one-group|groups|reshape|bank]";

/** Parsed command line. */
interface Arguments {
  quick: boolean;
  seed: number;
  clients: number;
  /** Workload seconds per scenario. */
  durationSeconds: number;
  outputDirectory: string;
  /** Run only the scenario of this name (all when undefined). */
  scenario: string | undefined;
}

function parseArguments(list: readonly string[]): Arguments | string {
  const parsed: Arguments = { quick: false, seed: Date.now() % 100_000, clients: 8, durationSeconds: 0, outputDirectory: "bench-results", scenario: undefined };
  for (let index = 0; index < list.length; index++) {
    const name = list[index]!;
    if (name === "--quick") {
      parsed.quick = true;
      continue;
    }
    const text = list[++index];
    if (text === undefined) return `${name} needs a value`;
    if (name === "--out") {
      parsed.outputDirectory = text;
      continue;
    }
    if (name === "--scenario") {
      if (!["one-group", "groups", "reshape", "bank"].includes(text)) return `unknown scenario ${text}`;
      parsed.scenario = text;
      continue;
    }
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 0) return `${name} needs a non-negative integer`;
    if (name === "--seed") parsed.seed = value;
    else if (name === "--clients" && value >= 1 && value <= 64) parsed.clients = value;
    else if (name === "--duration" && value >= 10) parsed.durationSeconds = value;
    else return `unknown option or value out of range: ${name} ${text}`;
  }
  if (parsed.durationSeconds === 0) parsed.durationSeconds = parsed.quick ? 30 : 75;
  return parsed;
}

/** The three scenarios: one group; four groups with the faults aimed at one; one group split, moved and merged during the faults. */
function scenarios(parsed: Arguments): ScenarioOptions[] {
  const keys = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, index) => `${prefix}${index}`);
  const solo: GroupPlan[] = [{ group: "solo", prefix: "solo/", keys: keys("solo/", 5) }];
  const spread: GroupPlan[] = [
    { group: "alpha", prefix: "alpha/", keys: keys("alpha/", 3) },
    { group: "beta", prefix: "beta/", keys: keys("beta/", 3) },
    { group: "gamma", prefix: "gamma/", keys: keys("gamma/", 3) },
    { group: "default", prefix: undefined, keys: keys("free/", 3) },
  ];
  const common = {
    clients: parsed.clients,
    workloadMs: parsed.durationSeconds * 1000,
    restarts: parsed.quick ? 1 : 2,
    requestTimeoutMs: 20_000,
    outputDirectory: parsed.outputDirectory,
    log: (line: string) => console.log(line),
  };
  const shape: GroupPlan[] = [{ group: "shape", prefix: "shape/", keys: keys("shape/", 10) }];
  const reshape = { group: "shape", splitName: "shape-hi", splitAt: "shape/5", moveStart: "shape/3" };
  return [
    { ...common, name: "one-group", groups: solo, target: "solo", seed: parsed.seed },
    { ...common, name: "groups", groups: spread, target: "alpha", seed: parsed.seed + 1 },
    { ...common, name: "reshape", groups: shape, target: "shape", seed: parsed.seed + 2, reshape },
  ];
}

async function main(): Promise<number> {
  const parsed = parseArguments(process.argv.slice(2));
  if (typeof parsed === "string") {
    console.error(parsed);
    console.error(usage);
    return 2;
  }
  const started = performance.now();
  console.log(`chaos: ${parsed.quick ? "quick" : "full"} run, seed ${parsed.seed} (replay the fault schedule with --seed ${parsed.seed})`);
  let failed = 0;
  for (const options of scenarios(parsed).filter((scenario) => parsed.scenario === undefined || scenario.name === parsed.scenario)) {
    console.log(`\n-- scenario ${options.name}`);
    const result = await runScenario(options);
    console.log("");
    for (const line of describeScenario(result)) console.log(line);
    if (!scenarioPassed(result)) failed += 1;
  }
  if (parsed.scenario === undefined || parsed.scenario === "bank") {
    console.log("\n-- scenario bank");
    const bank = await runBankScenario({
      transferClients: parsed.clients,
      snapshotClients: 2,
      workloadMs: parsed.durationSeconds * 1000,
      restarts: parsed.quick ? 1 : 2,
      seed: parsed.seed + 3,
      requestTimeoutMs: 20_000,
      outputDirectory: parsed.outputDirectory,
      log: (line) => console.log(line),
    });
    console.log("");
    for (const line of describeBankScenario(bank)) console.log(line);
    if (!bank.verdict.passed) failed += 1;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`\nchaos: ${failed === 0 ? "every scenario passed" : `${failed} scenario(s) FAILED`} in ${seconds.toFixed(1)} s (seed ${parsed.seed})`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error("chaos: the campaign could not run:", error);
    process.exit(2);
  },
);
