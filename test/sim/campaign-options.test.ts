/**
 * Proves the simulator scripts' shared command line (scripts/sim/options.ts) and campaign output
 * (scripts/sim/campaign.ts): the parser's defaults, each option and a script's own flag, the
 * refusal of unknown options and bad values, the usage line; the failure lines and the summary
 * headline on made-up results; and, running both scripts as subprocesses on the pinned Node, that
 * bad usage exits 2 with the problem and the script's usage line before any seed runs.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { describeCampaign, printFailures, type SeedOutcome } from "../../scripts/sim/campaign.ts";
import { jobsDefault, parseCampaignOptions, usageOf, type CampaignOptions, type SimulatorCommand } from "../../scripts/sim/options.ts";

const root = join(import.meta.dirname, "../..");
const command: SimulatorCommand = { name: "sim:test", stepsDefault: 1234, flags: ["--focus"] };

function parsed(...list: string[]): CampaignOptions {
  const options = parseCampaignOptions(command, list);
  if (typeof options === "string") throw new Error(`refused ${list.join(" ")}: ${options}`);
  return options;
}

function runScript(script: string, ...list: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(join(root, "node_modules/.bin/node"), [join(root, "scripts", script), ...list], { encoding: "utf8", cwd: root });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("the simulator command line", () => {
  it("defaults to seed 1 alone, the script's steps, no trace, the default jobs and none of its flags", () => {
    expect(parsed()).toEqual({ seedStart: 1, seedsCount: 1, steps: 1234, verbose: false, jobs: jobsDefault, flags: [] });
    expect(jobsDefault).toBeGreaterThanOrEqual(1);
    expect(jobsDefault).toBeLessThanOrEqual(8);
  });

  it("reads a campaign's seeds, steps and jobs", () => {
    expect(parsed("--seeds", "20", "--seed-start", "40", "--steps", "500", "--jobs", "3")).toEqual({
      seedStart: 40,
      seedsCount: 20,
      steps: 500,
      verbose: false,
      jobs: 3,
      flags: [],
    });
  });

  it("replays exactly one seed with --seed, before or after --seeds, and traces it with --verbose", () => {
    expect(parsed("--seed", "7", "--verbose")).toMatchObject({ seedStart: 7, seedsCount: 1, verbose: true });
    expect(parsed("--seeds", "5", "--seed", "9")).toMatchObject({ seedStart: 9, seedsCount: 1 });
    expect(parsed("--seed", "9", "--seeds", "5")).toMatchObject({ seedStart: 9, seedsCount: 1 });
  });

  it("runs at least one job", () => {
    expect(parsed("--jobs", "0").jobs).toBe(1);
  });

  it("collects the script's own flags", () => {
    expect(parsed("--focus", "--seeds", "3").flags).toEqual(["--focus"]);
  });

  it("refuses an unknown option, another script's flag and a bad or missing value", () => {
    expect(parseCampaignOptions(command, ["--bogus"])).toBe("unknown option --bogus");
    expect(parseCampaignOptions({ ...command, flags: [] }, ["--focus"])).toBe("unknown option --focus");
    for (const value of ["x", "-1", "1.5", "9007199254740992"]) expect(parseCampaignOptions(command, ["--seeds", value])).toBe("--seeds needs a non-negative integer");
    expect(parseCampaignOptions(command, ["--steps"])).toBe("--steps needs a non-negative integer");
  });

  it("refuses --verbose over more than one seed", () => {
    expect(parseCampaignOptions(command, ["--seeds", "3", "--verbose"])).toBe("--verbose traces one seed: use it with --seed");
  });

  it("names the npm script and its own flags in the usage line", () => {
    expect(usageOf(command)).toBe("usage: npm run sim:test -- (--seed N [--verbose] | --seeds K [--seed-start N] [--jobs J]) [--steps S] [--focus]");
  });
});

describe("the campaign output", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const passed: SeedOutcome = { seed: 3, steps: 100, failure: null, phase: null, settings: "n=3" };
  const failed: SeedOutcome = { seed: 4, steps: 100, failure: "two leaders in term 2", phase: "safety", settings: "n=5" };

  it("prints each failed seed with its phase, settings and replay command, and counts them", () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => lines.push(line));
    expect(printFailures([passed, failed], (result) => `replay ${result.seed}`)).toBe(1);
    expect(lines).toEqual(["FAIL seed 4 in the safety phase: two leaders in term 2", "  settings: n=5", "  replay: replay 4"]);
  });

  it("heads the summary with the seed range, the steps and the failures", () => {
    expect(describeCampaign("sim", [passed, failed], parsed("--seeds", "2", "--seed-start", "3", "--steps", "100"), 1)).toBe("sim: 2 seeds (seeds 3..4) x 100 steps, 1 failed");
  });
});

describe("the simulator scripts", () => {
  it("exit 2 with the problem and the usage line of npm run sim on bad usage", () => {
    const result = runScript("sim.ts", "--bogus");
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe("unknown option --bogus\nusage: npm run sim -- (--seed N [--verbose] | --seeds K [--seed-start N] [--jobs J]) [--steps S] [--wipes]\n");
  });

  it("exit 2 with the problem and the usage line of npm run sim:multigroup, which names --stale-drivers", () => {
    const result = runScript("sim-multigroup.ts", "--steps", "-1");
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "--steps needs a non-negative integer\nusage: npm run sim:multigroup -- (--seed N [--verbose] | --seeds K [--seed-start N] [--jobs J]) [--steps S] [--stale-drivers]\n",
    );
  });
});
