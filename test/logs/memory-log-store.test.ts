import { MemoryLogStore } from "../../src/logs/memory-log-store";
import { logStoreContract } from "./log-store-contract";

let nextJob = 0;
logStoreContract("memory", async () => ({
  store: new MemoryLogStore(),
  createJob: async () => ++nextJob,
  close: async () => {},
}));
