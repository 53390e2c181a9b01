// Public surface of the GitHub forge.
export { GithubForge, type GithubForgeOptions } from "./github-forge";
export { normalizeGithubEvent } from "./normalize-event";
export type { GithubCredentials } from "./client";
