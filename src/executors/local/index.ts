export { LocalExecutor, type LocalExecutorOptions } from "./local-executor";
export { pruneExpiredArtifacts, ARTIFACT_MANIFEST, type ArtifactManifest } from "./artifacts";
export { CACHE_MANIFEST, type CacheManifest } from "./cache";
