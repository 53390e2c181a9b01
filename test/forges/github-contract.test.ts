import { describeForgeContract } from "./forge-contract";
import { createGithubHarness } from "./harnesses";

describeForgeContract("github", () => createGithubHarness());
