/**
 * Proves the `edgeraft` CLI end to end: each test spawns it as a process against the suite's real
 * wrangler dev and checks its output and its documented exit codes (0 ok, 1 not found or condition
 * failed, 2 usage, 3 no answer): keys from arguments, files and stdin, scans, batches, a bulk load
 * that round-trips `scan --json`, groups (split, merge, range moves), tenant tokens, health, `top`, and
 * where URL and token come from.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { baseUrl } from "./client.ts";
import { e2eAdminToken, freePort } from "./wrangler.ts";

const entry = resolve("bin/edgeraft.ts");
const scratch = mkdtempSync(join(tmpdir(), "edgeraft-cli-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  bytes: Buffer;
}

/** Runs the CLI with `args`; by default against the suite's server with the admin token in the environment. */
function cli(args: string[], options: { stdin?: string | Uint8Array; env?: Record<string, string | undefined>; cwd?: string } = {}): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, EDGERAFT_URL: baseUrl(), EDGERAFT_TOKEN: e2eAdminToken, ...options.env };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  const child = spawn(process.execPath, [entry, ...args], { env, cwd: options.cwd ?? scratch, stdio: ["pipe", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
  child.stdin.end(options.stdin ?? "");
  return new Promise((done) => child.on("close", (code) => {
    const bytes = Buffer.concat(out);
    done({ code, stdout: bytes.toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), bytes });
  }));
}

describe("the edgeraft CLI against wrangler dev", () => {
  it("puts from an argument, a file and stdin, gets raw bytes or JSON, and exits 1 on absent keys and failed conditions", async () => {
    const put = await cli(["put", "cli/a", "hello"]);
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout).toMatch(/^cli\/a: version \d+ \(group default\)/);
    expect((await cli(["get", "cli/a"])).stdout).toBe("hello");
    const asJson = JSON.parse((await cli(["get", "cli/a", "--json"])).stdout) as { version: number; value: string; group: string };
    expect(asJson).toMatchObject({ value: "hello", group: "default" });
    const file = join(scratch, "value.bin");
    writeFileSync(file, new Uint8Array([0, 1, 254, 255]));
    expect((await cli(["put", "cli/file", "--file", file])).code).toBe(0);
    expect([...(await cli(["get", "cli/file"])).bytes]).toEqual([0, 1, 254, 255]);
    expect((await cli(["put", "cli/stdin"], { stdin: "from stdin" })).code).toBe(0);
    expect((await cli(["get", "cli/stdin"])).stdout).toBe("from stdin");

    const missing = await cli(["get", "cli/missing"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("not found");
    const stale = await cli(["put", "cli/a", "late", "--if-match", String(asJson.version - 1)]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain("conditionFailed");
    expect((await cli(["put", "cli/a", "x", "--if-absent"])).code).toBe(1);
    expect((await cli(["put", "cli/a", "newer", "--if-match", String(asJson.version)])).code).toBe(0);
    const removed = await cli(["del", "cli/a", "--json"]);
    expect(JSON.parse(removed.stdout)).toMatchObject({ key: "cli/a", deleted: true });
    expect((await cli(["get", "cli/a"])).code).toBe(1);
  });

  it("exits 2 on usage errors and 3 when nothing answers", async () => {
    expect((await cli(["get"])).code).toBe(2);
    expect((await cli(["get", "k", "--no-such-flag"])).code).toBe(2);
    expect((await cli(["frobnicate"])).code).toBe(2);
    expect((await cli(["get", "k", "--consistency", "eventual"])).code).toBe(2);
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("exit codes: 0 ok");
    const closedPort = await freePort();
    const down = await cli(["get", "k", "--url", `http://127.0.0.1:${closedPort}`, "--timeout", "2000"]);
    expect(down.code).toBe(3);
    expect(down.stderr).toContain("no answer");
  });

  it("bulk-loads JSON lines with progress and a summary, and round-trips what scan --json prints", async () => {
    const lines = Array.from({ length: 250 }, (_, index) => JSON.stringify(index % 10 === 0
      ? { key: `cli-load/${String(index).padStart(3, "0")}`, valueBase64: Buffer.from([index, 255]).toString("base64") }
      : { key: `cli-load/${String(index).padStart(3, "0")}`, value: `value ${index}` }));
    const file = join(scratch, "load.jsonl");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const loaded = await cli(["load", file, "--batch-size", "40", "--concurrency", "3"]);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.stdout).toMatch(/loaded 250 of 250 keys in [\d.]+ s \(\d+ keys\/s\), 0 failed/);
    expect(loaded.stderr).toContain("250/250 100%");

    const scanned = await cli(["scan", "--prefix", "cli-load/", "--json"]);
    const entries = scanned.stdout.trim().split("\n").map((line) => JSON.parse(line) as { key: string; value?: string; valueBase64?: string });
    expect(entries.length).toBe(250);
    expect(entries[1]).toMatchObject({ key: "cli-load/001", value: "value 1" });
    expect(entries[10]).toMatchObject({ key: "cli-load/010", valueBase64: Buffer.from([10, 255]).toString("base64") });
    const copy = join(scratch, "copy.jsonl");
    writeFileSync(copy, entries.map((entry) => JSON.stringify({ ...entry, key: entry.key.replace("cli-load/", "cli-copy/") })).join("\n"));
    expect((await cli(["load", copy, "--json"])).code).toBe(0);
    expect((await cli(["get", "cli-copy/010"])).bytes.equals(Buffer.from([10, 255]))).toBe(true);
    const table = await cli(["scan", "--prefix", "cli-copy/", "--limit", "3"]);
    expect(table.stdout.split("\n").slice(0, 4).join("\n")).toMatch(/^KEY\s+VERSION\s+VALUE\ncli-copy\/000\s+\d+\s+<2 bytes, not UTF-8>\ncli-copy\/001\s+\d+\s+value 1\ncli-copy\/002/);

    writeFileSync(join(scratch, "bad.jsonl"), '{"key":"a","value":"1"}\n{"key":"b"}\n');
    const bad = await cli(["load", join(scratch, "bad.jsonl")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("bad.jsonl:2");
  });

  it("runs a batch file and exits 1 when an operation fails", async () => {
    const ok = join(scratch, "ok.json");
    writeFileSync(ok, JSON.stringify({ operations: [{ op: "put", key: "cli-batch/1", value: "one" }, { op: "get", key: "cli-batch/1" }] }));
    const good = await cli(["batch", ok]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/get\s+cli-batch\/1\s+200\s+\d+\s+one/);
    const failing = await cli(["batch", "-", "--json"], { stdin: '{"op":"get","key":"cli-batch/none"}\n{"op":"put","key":"cli-batch/1","value":"x","ifMatch":999999}\n' });
    expect(failing.code).toBe(1);
    expect(failing.stdout.trim().split("\n").map((line) => (JSON.parse(line) as { code: string }).code)).toEqual(["notFound", "conditionFailed"]);
  });

  it("runs a transaction file and exits 1 on a conflict", async () => {
    const body = join(scratch, "txn.json");
    writeFileSync(body, JSON.stringify({ reads: ["cli-txn/a"], checks: [{ key: "cli-txn/a", absent: true }], writes: [{ op: "put", key: "cli-txn/a", value: "one" }, { op: "put", key: "cli-txn/b", value: "two" }] }));
    const good = await cli(["txn", body]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/read\s+cli-txn\/a\s+\(absent\)/);
    expect(good.stdout).toMatch(/write\s+cli-txn\/b\s+\d+\s+ok/);
    const conflict = await cli(["txn", body]);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain("txnConflict");
    const read = await cli(["txn", "-", "--json"], { stdin: JSON.stringify({ reads: ["cli-txn/a", "cli-txn/b"] }) });
    expect((JSON.parse(read.stdout) as { reads: { value: string }[] }).reads.map((entry) => entry.value)).toEqual(["one", "two"]);
  });

  it("administers groups and tenants and shows health and top", async () => {
    const created = await cli(["groups", "create", "cli-group", "--prefix", "cli-group/", "--replicas", "3"]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain("created group cli-group");
    expect((await cli(["groups", "create", "cli-group", "--prefix", "x/"])).code).toBe(1);
    expect((await cli(["put", "cli-group/k", "v", "--json"])).stdout).toContain('"group":"cli-group"');
    const listed = await cli(["groups", "ls"]);
    expect(listed.stdout).toMatch(/^GROUP\s+OWNS\s+REPLICAS\s+LEADER/);
    expect(listed.stdout).toMatch(/cli-group\s+prefix "cli-group\/"\s+3/);
    const shown = await cli(["groups", "show", "cli-group"]);
    expect(shown.stdout).toContain('owns prefix "cli-group/"');
    expect(shown.stdout).toMatch(/REPLICA\s+LOCATION\s+ROLE\s+COMMIT\s+APPLIED\s+LAG\s+LAG TIME\s+QUIESCED/);
    expect(shown.stdout.match(/^\d\*?\s+(wnam|weur|apac)\s/gm)?.length).toBe(3);
    const top = await cli(["top", "--iterations", "2", "--interval", "1"]);
    expect(top.code).toBe(0);
    expect(top.stdout.match(/^edgeraft top: /gm)?.length).toBe(2);
    expect(top.stdout).toContain("cli-group");
    const health = await cli(["health", "--json"]);
    expect(JSON.parse(health.stdout).groups.map((group: { name: string }) => group.name)).toContain("cli-group");
    expect(health.code).toBe(JSON.parse(health.stdout).healthy === true ? 0 : 1);
    expect((await cli(["groups", "rm", "cli-group"])).code).toBe(0);
    expect((await cli(["groups", "show", "cli-group"])).code).toBe(1);
    expect((await cli(["groups", "rm", "default"])).code).toBe(1);

    const token = (await cli(["tenants", "token", "cli-tenant"])).stdout.trim();
    expect(token.length).toBeGreaterThan(10);
    expect((await cli(["put", "note", "tenant data", "--tenant", "cli-tenant", "--token", token])).code).toBe(0);
    expect((await cli(["get", "note", "--tenant", "cli-tenant"], { env: { EDGERAFT_TOKEN: token } })).stdout).toBe("tenant data");
    const forbidden = await cli(["groups", "ls"], { env: { EDGERAFT_TOKEN: token } });
    expect(forbidden.code).toBe(2);
    expect(forbidden.stderr).toContain("403 forbidden");
  });

  it("splits, moves and merges ranges, shows each group's ranges, and exits 1 or 2 on refusals", async () => {
    expect((await cli(["groups", "create", "cli-shape", "--prefix", "cli-shape/"])).code).toBe(0);
    for (const letter of "abcdef") expect((await cli(["put", `cli-shape/${letter}`, letter])).code).toBe(0);
    const split = await cli(["groups", "split", "cli-shape", "--at", "cli-shape/d", "--name", "cli-shape-hi"]);
    expect(split.code, split.stderr).toBe(0);
    expect(split.stdout).toContain('split cli-shape: new group cli-shape-hi serves ["cli-shape/d", "cli-shape0")');
    expect(JSON.parse((await cli(["get", "cli-shape/e", "--json"])).stdout)).toMatchObject({ value: "e", group: "cli-shape-hi" });
    const listed = await cli(["groups", "ls"]);
    expect(listed.stdout).toMatch(/^GROUP\s+OWNS\s+REPLICAS\s+.*\sRANGES$/m);
    expect(listed.stdout).toMatch(/^cli-shape\s+prefix "cli-shape\/".*\["cli-shape\/", "cli-shape\/d"\)$/m);

    const moved = await cli(["ranges", "move", "--start", "cli-shape/e", "--end", "cli-shape/f", "--to", "default"]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain('moved ["cli-shape/e", "cli-shape/f") to default: 1 range, 1 records');
    expect(JSON.parse((await cli(["get", "cli-shape/e", "--json"])).stdout)).toMatchObject({ value: "e", group: "default" });
    const shown = await cli(["groups", "show", "cli-shape-hi"]);
    expect(shown.stdout).toContain('serves ["cli-shape/d", "cli-shape/e") ["cli-shape/f", "cli-shape0")');

    const merged = await cli(["groups", "merge", "cli-shape", "--with", "cli-shape-hi", "--json"]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(JSON.parse(merged.stdout)).toMatchObject({ name: "cli-shape", ranges: [{ start: "cli-shape/", end: "cli-shape/e" }, { start: "cli-shape/f", end: "cli-shape0" }] });
    expect((await cli(["groups", "show", "cli-shape-hi"])).code).toBe(1);
    expect(JSON.parse((await cli(["get", "cli-shape/f", "--json"])).stdout)).toMatchObject({ value: "f", group: "cli-shape" });

    const median = await cli(["groups", "split", "cli-shape", "--json"]);
    expect(median.code, median.stderr).toBe(0);
    const upper = JSON.parse(median.stdout) as { name: string; ranges: { start: string }[] };
    expect(upper.name).toMatch(/^cli-shape-[0-9a-f]{6}$/);
    expect(upper.ranges[0]!.start > "cli-shape/a").toBe(true);

    expect((await cli(["groups", "merge", "cli-shape"])).code).toBe(2);
    expect((await cli(["ranges", "move", "--start", "cli-shape/a"])).code).toBe(2);
    expect((await cli(["groups", "split", "cli-shape", "--at", "zzz"])).code).toBe(2);
    expect((await cli(["groups", "split", "no-such-group"])).code).toBe(1);
    expect((await cli(["groups", "rm", upper.name])).code).toBe(0);
    expect((await cli(["groups", "rm", "cli-shape"])).code).toBe(0);
    for (const letter of "abcdef") expect((await cli(["get", `cli-shape/${letter}`])).stdout).toBe(letter);
  });

  it("transfers a group's leadership to the replica asked for, and exits 1 or 2 on refusals", async () => {
    expect((await cli(["put", "note", "v", "--tenant", "cli-leader"])).code).toBe(0);
    const moved = await cli(["groups", "transfer-leader", "tenant-cli-leader", "--to", "2"]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toMatch(/^tenant-cli-leader: leadership moved from replica 1 to replica 2 \(term \d+\)$/m);
    const again = await cli(["groups", "transfer-leader", "tenant-cli-leader", "--to", "2", "--json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ group: "tenant-cli-leader", previous: 2, leader: 2, transferred: false });
    const best = await cli(["groups", "transfer-leader", "tenant-cli-leader", "--json"]);
    expect(best.code, best.stderr).toBe(0);
    expect([1, 2, 3]).toContain((JSON.parse(best.stdout) as { leader: number }).leader);
    const unknown = await cli(["groups", "transfer-leader", "tenant-cli-leader", "--to", "9"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("replicaNotFound");
    expect((await cli(["groups", "transfer-leader", "tenant-cli-leader", "--to", "two"])).code).toBe(2);
    expect((await cli(["groups", "transfer-leader"])).code).toBe(2);
  });

  it("takes the token from .dev.vars when neither --token nor EDGERAFT_TOKEN gives one", async () => {
    const project = mkdtempSync(join(scratch, "project-"));
    writeFileSync(join(project, ".dev.vars"), `# local\nADMIN_TOKEN="${e2eAdminToken}"\n`);
    const fromFile = await cli(["put", "cli/dev-vars", "v"], { cwd: project, env: { EDGERAFT_TOKEN: undefined } });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const noToken = await cli(["get", "cli/dev-vars"], { env: { EDGERAFT_TOKEN: undefined } });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("401 unauthorized");
  });

  it("runs as `npx edgeraft` through package.json bin", async () => {
    const child = spawn("npx", ["edgeraft", "get", "cli/stdin"], { env: { ...process.env, EDGERAFT_URL: baseUrl(), EDGERAFT_TOKEN: e2eAdminToken }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += String(chunk)));
    const code = await new Promise((done) => child.on("close", done));
    expect(code).toBe(0);
    expect(out).toBe("from stdin");
  });
});
