import { describeForgeContract } from "./forge-contract";
import { createLocalHarness } from "./harnesses";

describeForgeContract("local", () => createLocalHarness());
