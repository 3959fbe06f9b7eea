/** Runs the LogStore conformance suite against MemoryStorage, the simulator's and benchmarks' disk. */
import { MemoryStorage } from "../../src/raft/storage.ts";
import { logStoreConformance } from "./log-store-conformance.ts";

logStoreConformance("MemoryStorage", (body) => body({ create: () => new MemoryStorage(), reopen: (store) => store }));
