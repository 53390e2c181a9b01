import { describeForgeContract } from "./forge-contract";
import { createGitlabHarness } from "./harnesses";

describeForgeContract("gitlab", () => createGitlabHarness());
