/**
 * Proves the check-history script's contract by running it as a subprocess on the pinned Node:
 * exit 0 with a one-line summary for a linearizable history, 1 with the key and the operations
 * that cannot be ordered for a violation, 2 with the line and the problem for malformed input or
 * with a usage line for a bad command line, and 3 when the search budget runs out; and for a
 * transaction history: 0 with a summary when strict serializable, 1 with the cycle's transactions
 * and edges for a write skew, 2 with the line for a malformed transaction.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const fixtures = join(root, "test/fixtures/histories");

function runScript(...argumentsList: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(join(root, "node_modules/.bin/node"), [join(root, "scripts/check-history.ts"), ...argumentsList], {
    encoding: "utf8",
    cwd: root,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function temporaryFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "check-history-")), name);
  writeFileSync(path, text);
  return path;
}

describe("scripts/check-history.ts", () => {
  it("exits 0 and prints a one-line summary for a linearizable history", () => {
    const result = runScript(join(fixtures, "pass-many-keys.jsonl"));
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
    expect(result.stdout).toMatch(/^linearizable: 12 operations over 4 keys/);
  });

  it("exits 1 and names the key and the operations that cannot be ordered for a violation", () => {
    const result = runScript(join(fixtures, "fail-stale-read.jsonl"));
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("NOT linearizable");
    expect(result.stdout).toContain('key "x": not linearizable');
    expect(result.stdout).toContain('#3 process 2 read "x" -> "1" ok [time 7..8]');
    expect(result.stdout).toContain('value after the prefix: "2"');
  });

  it("exits 2 with the line number and the problem for malformed input", () => {
    const path = temporaryFile("bad.jsonl", '{"process":0,"type":"invoke","f":"cas","key":"k","value":"1","time":1}\n');
    const result = runScript(path);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${path}:1: a cas value must be a 2-element array`);
  });

  it("exits 2 on a completion without an invoke, naming its line", () => {
    const path = temporaryFile("orphan.jsonl", '\n{"process":3,"type":"ok","f":"read","key":"k","value":null,"time":1}\n');
    const result = runScript(path);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(":2: process 3 completes (ok) without an outstanding invoke");
  });

  it("exits 2 with a usage line when the file argument is missing", () => {
    const result = runScript();
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("missing history file");
    expect(result.stderr).toContain("usage: npm run check-history -- FILE");
  });

  it("exits 2 with a usage line when the file cannot be read", () => {
    const result = runScript(join(fixtures, "no-such-history.jsonl"));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("cannot read");
    expect(result.stderr).toContain("usage:");
  });

  it("exits 2 on an unknown option", () => {
    const result = runScript("--fast", join(fixtures, "pass-cas-chain.jsonl"));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown option --fast");
  });

  it("exits 3 with a message when the search budget runs out", () => {
    const result = runScript(join(fixtures, "pass-concurrent-writes.jsonl"), "--steps-max", "3");
    expect(result.status).toBe(3);
    expect(result.stderr).toContain("unknown: the search budget of 3 steps ran out");
  });

  it("exits 0 with a one-line summary for a strict serializable transaction history", () => {
    const result = runScript(join(root, "test/fixtures/txn-histories/pass-bank.jsonl"));
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
    expect(result.stdout).toMatch(/^strict serializable: 6 transactions \(5 committed, 1 failed, 1 indeterminate, 1 of them observed\)/);
  });

  it("exits 1 and shows the cycle of a write skew in a transaction history", () => {
    const result = runScript(join(root, "test/fixtures/txn-histories/fail-write-skew.jsonl"));
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("NOT serializable (1 anomaly)");
    expect(result.stdout).toContain("G2 (write skew: anti-dependency cycle): a cycle of 2 transactions");
    expect(result.stdout).toContain('-rw "y" read @2, overwritten @4->');
    expect(result.stdout).toContain('T2 process 2 ok [time 4..6]: read "x" -> "x0"@1, read "y" -> "y0"@2, put "y" "y1" -> @4');
  });

  it("exits 2 with the line number for a malformed transaction", () => {
    const path = temporaryFile("bad-txn.jsonl", '{"process":0,"type":"invoke","f":"txn","value":{"reads":[],"checks":[{"key":"a"}],"writes":[]},"time":1}\n');
    const result = runScript(path);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${path}:1: a check must be {key, version} or {key, absent: true}`);
  });
});
