export { createRunnerApi, standaloneRunnerApi, CACHE_KEY_HEADER, RUNNER_API_BASE_PATH, type RunnerApiEnv, type RunnerApiOptions } from "./runner-routes";
export { BlobTooLargeError, FileBlobStore, type BlobRead, type RunnerBlobStore } from "./blob-store";
export {
  deriveRunnerTokenKey,
  mintRunnerToken,
  RunnerTokenError,
  verifyRunnerToken,
  type RunnerTokenClaims,
  type RunnerTokenGrant,
  type RunnerTokenSource,
} from "./runner-token";
