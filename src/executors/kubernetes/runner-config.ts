// runner.json: what the helper program (gust-runner prepare / finish) is told about the job. It
// lives in the job's Secret because it holds the runner token and the clone credentials.
import type { CacheKeyPart, JobRun } from "../executor";
import type { PodSource } from "./job-source";
import { PROTOCOL_VERSION } from "./pod-protocol";

export interface RunnerConfig {
  version: typeof PROTOCOL_VERSION;
  /** Where Gust's runner API is reachable from the pod. */
  runnerUrl: string;
  /** Short-lived per-job bearer token for the runner API. */
  token: string;
  source: PodSource;
  /** Job keys whose artifacts are fetched into the workspace before the first step. */
  artifactsFrom: string[];
  /** Uploaded by gust-finish when the job succeeded. */
  artifacts: { paths: string[] } | null;
  cache: { key: CacheKeyPart[]; restoreKeys: string[]; paths: string[] } | null;
  /** True when the pod has service sidecars that gust-finish must stop after the last step. */
  stopServices: boolean;
  lastStep: number;
}

export function runnerConfigFor(job: JobRun, runner: { url: string; token: string }, source: PodSource): RunnerConfig {
  return {
    version: PROTOCOL_VERSION,
    runnerUrl: runner.url,
    token: runner.token,
    source,
    artifactsFrom: [...job.artifactsFrom],
    artifacts: job.artifacts ? { paths: [...job.artifacts.paths] } : null,
    cache: job.cache ? { key: job.cache.key, restoreKeys: [...job.cache.restoreKeys], paths: [...job.cache.paths] } : null,
    stopServices: job.services.length > 0,
    lastStep: job.steps.length - 1,
  };
}
