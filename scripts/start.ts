/**
 * `npm start`: runs the whole system locally with `wrangler dev` on http://127.0.0.1:8787, offline,
 * with state persisted under .wrangler/state (it survives a stop and a restart). Creates .dev.vars
 * from .dev.vars.example when it is missing. `FAULTS=on npm start` enables the fault routes.
 */
import { copyFileSync, existsSync } from "node:fs";
import { spawn } from "node:child_process";

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("created .dev.vars from .dev.vars.example (it holds the local ADMIN_TOKEN)");
}
const port = process.env.PORT ?? "8787";
const args = ["wrangler", "dev", "--ip", "127.0.0.1", "--port", port, "--persist-to", process.env.PERSIST_TO ?? ".wrangler/state"];
if (process.env.FAULTS === "on") args.push("--var", "FAULTS:on");
const child = spawn("npx", args, {
  stdio: "inherit",
  env: {
    ...process.env,
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
  },
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
