// The bindings the Workers Vitest plugin provides to tests (those of wrangler.toml).
declare module "cloudflare:test" {
  interface ProvidedEnv extends import("../../src/hosts/cloudflare/env.ts").Env {}
}
