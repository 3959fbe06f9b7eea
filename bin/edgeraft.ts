#!/usr/bin/env node
/** The `edgeraft` command (`npx edgeraft --help`); the pinned Node 22 runs this TypeScript as is. */
import { main } from "../src/cli/main.ts";

process.exitCode = await main(process.argv.slice(2));
