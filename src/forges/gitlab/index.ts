// Public surface of the GitLab forge.
export { GitlabForge, type GitlabForgeOptions } from "./gitlab-forge";
export { normalizeGitlabEvent } from "./normalize-event";
