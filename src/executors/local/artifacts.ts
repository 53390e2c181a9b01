// Artifacts on the local disk: a successful job's matching files go to
// `artifactsDir/<pipelineRunId>/<jobKey>/` with a gust-artifact.json manifest; later jobs of the same
// pipeline run get them copied into their workspace before step 1.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { JobRun } from "../executor";
import { copyFiles } from "./copy-files";
import { findFiles } from "./file-globs";
import { formatBytes } from "./format";
import { safeSegment } from "./paths";
import { walkFiles } from "./walk-files";

export const ARTIFACT_MANIFEST = "gust-artifact.json";

export interface ArtifactManifest {
  pipelineRunId: string;
  jobKey: string;
  runId: string;
  /** Relative paths, sorted. */
  files: string[];
  bytes: number;
  createdAt: string;
  /** ISO time after which pruneExpiredArtifacts removes it; null: kept until removed otherwise. */
  expiresAt: string | null;
}

export function artifactDirectory(artifactsDir: string, pipelineRunId: string, jobKey: string): string {
  return path.join(artifactsDir, safeSegment(pipelineRunId, "pipeline run id"), safeSegment(jobKey, "job key"));
}

export async function publishArtifacts(
  job: JobRun,
  workspace: string,
  artifactsDir: string,
  log: (text: string) => void,
): Promise<void> {
  const artifacts = job.artifacts;
  if (!artifacts || artifacts.paths.length === 0) return;
  const files = (await findFiles(workspace, artifacts.paths)).filter((file) => file !== ARTIFACT_MANIFEST);
  if (files.length === 0) {
    log(`artifacts: warning: no files match ${artifacts.paths.join(", ")}; nothing saved`);
    return;
  }
  const target = artifactDirectory(artifactsDir, job.pipelineRunId, job.jobKey);
  // Built aside and renamed into place, so a reader never sees half an artifact.
  const temporary = path.join(path.dirname(target), `.tmp-${path.basename(target)}-${randomBytes(6).toString("hex")}`);
  try {
    await mkdir(temporary, { recursive: true });
    const copied = await copyFiles(workspace, temporary, files);
    const now = Date.now();
    const manifest: ArtifactManifest = {
      pipelineRunId: job.pipelineRunId,
      jobKey: job.jobKey,
      runId: job.runId,
      files,
      bytes: copied.bytes,
      createdAt: new Date(now).toISOString(),
      expiresAt: artifacts.expireInMs === undefined ? null : new Date(now + artifacts.expireInMs).toISOString(),
    };
    await writeFile(path.join(temporary, ARTIFACT_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(target, { recursive: true, force: true }); // an earlier attempt of the same job
    await rename(temporary, target);
    log(`artifacts: saved ${copied.files} files (${formatBytes(copied.bytes)}) as ${job.jobKey}`);
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
}

export async function restoreArtifacts(
  job: JobRun,
  workspace: string,
  artifactsDir: string,
  log: (text: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  for (const jobKey of job.artifactsFrom) {
    const source = artifactDirectory(artifactsDir, job.pipelineRunId, jobKey);
    let files: string[];
    try {
      files = await walkFiles(source, signal ? { signal } : {});
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      log(`artifacts: warning: no artifacts from ${jobKey} in this pipeline run`);
      continue;
    }
    files = files.filter((file) => file !== ARTIFACT_MANIFEST);
    const copied = await copyFiles(source, workspace, files, { replace: true, ...(signal ? { signal } : {}) });
    log(`artifacts: restored ${copied.files} files (${formatBytes(copied.bytes)}) from ${jobKey}`);
  }
}

/** Removes every artifact whose expiresAt is at or before `now`; returns them as `<run>/<job>`. */
export async function pruneExpiredArtifacts(artifactsDir: string, now: number = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  for (const run of await directories(artifactsDir)) {
    const runDir = path.join(artifactsDir, run);
    const jobs = await directories(runDir);
    for (const jobKey of jobs) {
      if (jobKey.startsWith(".tmp-")) continue; // being written right now
      const manifest = await readManifest(path.join(runDir, jobKey));
      const expiresAt = manifest?.expiresAt ? Date.parse(manifest.expiresAt) : Number.NaN;
      if (!(expiresAt <= now)) continue;
      await rm(path.join(runDir, jobKey), { recursive: true, force: true });
      removed.push(`${run}/${jobKey}`);
    }
    // Only succeeds when empty, which is exactly when it should go.
    await rmdir(runDir).catch(() => undefined);
  }
  return removed;
}

async function directories(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

async function readManifest(dir: string): Promise<ArtifactManifest | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, ARTIFACT_MANIFEST), "utf8")) as ArtifactManifest;
  } catch {
    return undefined; // no manifest: not ours or incomplete, leave it
  }
}
