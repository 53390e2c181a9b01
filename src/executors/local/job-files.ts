// The files around a job's steps: before step 1 the workspace, artifacts of earlier jobs and the
// cache; after a successful job its artifacts and a new cache entry. Progress goes to `log` as
// system lines.
import path from "node:path";
import type { JobRun } from "../executor";
import { publishArtifacts, restoreArtifacts } from "./artifacts";
import { resolveCacheKey, restoreCache, saveCache } from "./cache";
import { safeSegment } from "./paths";
import { prepareWorkspace } from "./workspace";

export interface JobFileOptions {
  workRoot: string;
  artifactsDir: string;
  cacheDir: string;
}

export interface PreparedFiles {
  /** Resolved cache key (hashFiles done before any step changed the files). */
  cacheKey?: string;
  /** The exact key was restored: entries are immutable, so nothing to save. */
  cacheHit: boolean;
}

type Log = (text: string) => void;

export function workspacePath(options: Pick<JobFileOptions, "workRoot">, runId: string): string {
  return path.join(options.workRoot, safeSegment(runId, "run id"));
}

/** Throws on faults (the job cannot run); a failing cache restore is only a warning. */
export async function prepareJobFiles(
  job: JobRun,
  workspace: string,
  options: JobFileOptions,
  log: Log,
  signal: AbortSignal,
): Promise<PreparedFiles> {
  await prepareWorkspace(job.workspace, workspace, {
    exclude: [options.workRoot, options.artifactsDir, options.cacheDir],
    signal,
    log,
  });
  await restoreArtifacts(job, workspace, options.artifactsDir, log, signal);
  const prepared: PreparedFiles = { cacheHit: false };
  if (job.cache) {
    try {
      prepared.cacheKey = await resolveCacheKey(job.cache.key, workspace);
      prepared.cacheHit = (await restoreCache(job.cache, prepared.cacheKey, workspace, options.cacheDir, log, signal)).exact;
    } catch (error) {
      signal.throwIfAborted();
      log(`cache: warning: restore failed: ${describe(error)}`); // a cache only saves time
    }
  }
  signal.throwIfAborted();
  return prepared;
}

/** Throws when the artifacts cannot be published (later jobs need them); cache problems only warn. */
export async function saveJobFiles(
  job: JobRun,
  workspace: string,
  options: JobFileOptions,
  prepared: PreparedFiles,
  log: Log,
): Promise<void> {
  await publishArtifacts(job, workspace, options.artifactsDir, log);
  if (job.cache && prepared.cacheKey !== undefined && !prepared.cacheHit) {
    try {
      await saveCache(job.cache, prepared.cacheKey, workspace, options.cacheDir, log);
    } catch (error) {
      log(`cache: warning: save failed: ${describe(error)}`);
    }
  }
}

/** One line saying what a container executor would have used and this one does not. */
export function containersNotice(job: JobRun): string | undefined {
  const images = [...new Set([job.image, ...job.steps.map((step) => step.image)])].filter(
    (image): image is string => Boolean(image),
  );
  const parts: string[] = [];
  if (images.length > 0) parts.push(`image ${images.join(", ")} not used`);
  if (job.services.length > 0) {
    parts.push(`services not started (${job.services.map((service) => service.name).join(", ")})`);
  }
  return parts.length > 0 ? `local executor: ${parts.join("; ")}; steps run on this machine` : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
