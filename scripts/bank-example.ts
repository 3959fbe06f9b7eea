/**
 * The README's bank example, against a running edgeraft (`npm start` by default):
 *   npm run bank -- [--transfers N] [--clients C] [--url URL] [--token TOKEN]
 * Creates four prefix groups (bank-a/ .. bank-d/), seeds two accounts in each with 100 in one
 * transaction (skipped when they exist), runs N transfers from C concurrent clients (read two
 * balances in one snapshot transaction, then a transaction that checks both versions and writes
 * both; a 409 conflict is retried with fresh balances), and reads every account in one snapshot.
 * The connection is resolved as the CLI resolves it (flags, EDGERAFT_URL / EDGERAFT_TOKEN, then
 * the local .dev.vars). Exit 0 when the snapshot adds up to the seeded total, 1 when it does not,
 * 2 on bad usage or when the server cannot be used.
 */
import { resolveConnection } from "../src/cli/connection.ts";

const usage = "usage: npm run bank -- [--transfers N] [--clients C] [--url URL] [--token TOKEN]";
const groups = ["a", "b", "c", "d"].map((letter) => ({ name: `bank-${letter}`, prefix: `bank-${letter}/` }));
const accounts = groups.flatMap((group, index) => [`${group.prefix}${["alice", "bob", "carol", "dave"][index]}`, `${group.prefix}${["erin", "frank", "grace", "heidi"][index]}`]);
const initialBalance = 100;

interface Read {
  key: string;
  found: boolean;
  value?: string | null;
  version?: number;
}

function parseArguments(list: readonly string[]): { transfers: number; clients: number; url?: string; token?: string } | string {
  const parsed: { transfers: number; clients: number; url?: string; token?: string } = { transfers: 20, clients: 4 };
  for (let index = 0; index < list.length; index += 2) {
    const [name, text] = [list[index]!, list[index + 1]];
    if (text === undefined) return `${name} needs a value`;
    if (name === "--url") parsed.url = text;
    else if (name === "--token") parsed.token = text;
    else if ((name === "--transfers" || name === "--clients") && /^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= 10_000) parsed[name === "--transfers" ? "transfers" : "clients"] = Number(text);
    else return `unknown option or bad value: ${name} ${text}`;
  }
  return parsed;
}

async function main(): Promise<number> {
  const parsed = parseArguments(process.argv.slice(2));
  if (typeof parsed === "string") {
    console.error(`${parsed}\n${usage}`);
    return 2;
  }
  const connection = resolveConnection(parsed, process.env, process.cwd());
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (connection.token !== undefined) headers["authorization"] = `Bearer ${connection.token}`;
    const response = await fetch(`${connection.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    return { status: response.status, json: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
  };
  const txn = (body: unknown) => call("POST", "/v1/txn", body);

  for (const group of groups) {
    const created = await call("POST", "/v1/groups", group);
    if (created.status !== 201 && created.status !== 409) throw new Error(`creating group ${group.name}: ${created.status} ${JSON.stringify(created.json)}`);
  }
  console.log(`groups: ${groups.map((group) => `${group.name} (${group.prefix})`).join(", ")}`);
  const seeded = await txn({ checks: accounts.map((key) => ({ key, absent: true })), writes: accounts.map((key) => ({ op: "put", key, value: String(initialBalance) })) });
  if (seeded.status === 200) console.log(`seeded ${accounts.length} accounts with ${initialBalance} each in one transaction`);
  else if (seeded.status === 409) console.log(`accounts already exist (${seeded.json["code"]}): keeping their balances`);
  else throw new Error(`seeding: ${seeded.status} ${JSON.stringify(seeded.json)}`);

  let next = 0;
  let conflicts = 0;
  const client = async (): Promise<void> => {
    while (next < parsed.transfers) {
      const number = next++;
      for (;;) {
        const from = accounts[Math.floor(Math.random() * accounts.length)]!;
        const to = accounts.filter((key) => key !== from)[Math.floor(Math.random() * (accounts.length - 1))]!;
        const read = await txn({ reads: [from, to] });
        if (read.status !== 200) throw new Error(`reading balances: ${read.status} ${JSON.stringify(read.json)}`);
        const [fromRead, toRead] = [from, to].map((key) => (read.json["reads"] as Read[]).find((entry) => entry.key === key)!);
        const amount = Math.min(Number(fromRead!.value), 1 + Math.floor(Math.random() * 10));
        const transfer = await txn({
          checks: [{ key: from, version: fromRead!.version }, { key: to, version: toRead!.version }],
          writes: [{ op: "put", key: from, value: String(Number(fromRead!.value) - amount) }, { op: "put", key: to, value: String(Number(toRead!.value) + amount) }],
        });
        if (transfer.status === 200) {
          console.log(`transfer ${number + 1}: ${amount} from ${from} to ${to} (versions ${JSON.stringify(transfer.json["versions"])})`);
          break;
        }
        if (transfer.status !== 409) throw new Error(`transfer: ${transfer.status} ${JSON.stringify(transfer.json)}`);
        conflicts++;
      }
    }
  };
  await Promise.all(Array.from({ length: parsed.clients }, client));
  console.log(`${parsed.transfers} transfers committed (${conflicts} retried after a 409 txnConflict)`);

  const snapshot = await txn({ reads: accounts });
  if (snapshot.status !== 200) throw new Error(`snapshot: ${snapshot.status} ${JSON.stringify(snapshot.json)}`);
  const balances = (snapshot.json["reads"] as Read[]).map((entry) => [entry.key, Number(entry.value ?? 0)] as const);
  for (const [key, balance] of balances) console.log(`  ${key.padEnd(14)} ${balance}`);
  const total = balances.reduce((sum, [, balance]) => sum + balance, 0);
  const expected = accounts.length * initialBalance;
  console.log(`snapshot total: ${total} (expected ${expected})${total === expected ? "" : " MISMATCH"}`);
  return total === expected ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bank: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
