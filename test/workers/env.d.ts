// The bindings the Workers Vitest plugin provides to tests (those of wrangler.toml).
import type { Env as EdgeraftEnv } from "../../src/hosts/cloudflare/env.ts";

declare global {
  namespace Cloudflare {
    interface Env extends EdgeraftEnv {}
  }
}
