import { describeExecutorContract } from "../contract/executor-contract";
import { createLocalHarness } from "./local-harness";

describeExecutorContract("local", () => createLocalHarness());
