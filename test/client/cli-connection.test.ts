/**
 * Proves where the CLI takes its URL and token from, in order: flags, then EDGERAFT_URL /
 * EDGERAFT_TOKEN, then the local `npm start` URL and the ADMIN_TOKEN of `.dev.vars`; and the
 * mapping of errors to the documented exit codes.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EdgeraftNetworkError, EdgeraftProblem } from "../../src/client/index.ts";
import { devVarsToken, localUrl, resolveConnection } from "../../src/cli/connection.ts";
import { exitCodeOf, table, UsageError } from "../../src/cli/output.ts";

const directory = mkdtempSync(join(tmpdir(), "edgeraft-connection-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe("the CLI's connection", () => {
  it("prefers flags, then the environment, then npm start's URL and .dev.vars", () => {
    writeFileSync(join(directory, ".dev.vars"), "# comment\nOTHER=1\nADMIN_TOKEN = \"from-file\"\n");
    expect(resolveConnection({}, {}, directory)).toEqual({ url: localUrl, token: "from-file" });
    expect(localUrl).toBe("http://127.0.0.1:8787");
    expect(resolveConnection({}, { EDGERAFT_URL: "http://e", EDGERAFT_TOKEN: "env" }, directory)).toEqual({ url: "http://e", token: "env" });
    expect(resolveConnection({ url: "http://f", token: "flag" }, { EDGERAFT_URL: "http://e", EDGERAFT_TOKEN: "env" }, directory)).toEqual({ url: "http://f", token: "flag" });
    expect(resolveConnection({}, { EDGERAFT_TOKEN: "" }, join(directory, "absent"))).toEqual({ url: localUrl, token: undefined });
    writeFileSync(join(directory, "plain"), "ADMIN_TOKEN=plain-token\n");
    expect(devVarsToken(join(directory, "plain"))).toBe("plain-token");
  });
});

describe("exit codes", () => {
  it("maps absent keys and failed conditions to 1, usage and refused input to 2, server and network failures to 3", () => {
    const problem = (status: number, code: string) => new EdgeraftProblem(status, { code, detail: "d" }, 1);
    expect(exitCodeOf(problem(404, "notFound"))).toBe(1);
    expect(exitCodeOf(problem(412, "conditionFailed"))).toBe(1);
    expect(exitCodeOf(problem(409, "groupExists"))).toBe(1);
    expect(exitCodeOf(new UsageError("x"))).toBe(2);
    expect(exitCodeOf(problem(400, "badKey"))).toBe(2);
    expect(exitCodeOf(problem(401, "unauthorized"))).toBe(2);
    expect(exitCodeOf(problem(503, "unavailable"))).toBe(3);
    expect(exitCodeOf(problem(500, "internal"))).toBe(3);
    expect(exitCodeOf(new EdgeraftNetworkError("down", 4, true, undefined))).toBe(3);
  });

  it("aligns tables, numbers to the right", () => {
    expect(table(["NAME", "N"], [["a", 1], ["bbb", 22]])).toBe("NAME   N\na      1\nbbb   22");
  });
});
