// `gust-runner finish`, the pod's last container: waits for the last step, then does what the
// local executor does after a job — only when it succeeded: publish the artifacts (a failure is
// the job's failure) and save a new cache entry (a failure only warns) — and finally stops the
// service containers so the pod can end.
import { lstat, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { ARTIFACT_MANIFEST } from "../executors/local/artifacts";
import { CACHE_MANIFEST } from "../executors/local/cache";
import { findFiles } from "../executors/local/file-globs";
import { formatBytes } from "../executors/local/format";
import { PREPARE_STATE_FILE, type PrepareState } from "./prepare";
import type { RunnerClient } from "./runner-client";
import type { RunnerConfig, RunnerPaths } from "./runner-config";
import { describe } from "./retry";
import { stopServices } from "./stop-services";
import { packFiles } from "./tar-stream";

type Log = (text: string) => void;

export interface FinishOptions {
  /** See stopServices: explicit targets for tests instead of kill(-1). */
  serviceTargets?: number[];
  serviceGraceMs: number;
  /** How often the done-file is looked for. */
  pollMs?: number;
}

export async function finish(config: RunnerConfig, paths: RunnerPaths, client: RunnerClient, log: Log, options: FinishOptions): Promise<void> {
  try {
    await waitForFile(path.join(paths.state, `${config.lastStep}.done`), options.pollMs ?? 20);
    if (await exists(path.join(paths.state, "failed"))) {
      log("finish: the job failed; no artifacts or cache saved");
      return;
    }
    await publishArtifacts(config, paths.workspace, client, log);
    await saveCache(config, paths, client, log);
  } finally {
    if (config.stopServices) {
      await stopServices({ ...(options.serviceTargets ? { targets: options.serviceTargets } : {}), graceMs: options.serviceGraceMs, log });
    }
  }
}

async function publishArtifacts(config: RunnerConfig, workspace: string, client: RunnerClient, log: Log): Promise<void> {
  const patterns = config.artifacts?.paths ?? [];
  if (patterns.length === 0) return;
  const files = (await findFiles(workspace, patterns)).filter((file) => file !== ARTIFACT_MANIFEST);
  if (files.length === 0) {
    log(`artifacts: warning: no files match ${patterns.join(", ")}; nothing saved`);
    return;
  }
  const bytes = await totalSize(workspace, files);
  await client.upload("artifacts", "/artifacts", () => packFiles(workspace, files), [201]);
  log(`artifacts: saved ${files.length} files (${formatBytes(bytes)})`);
}

async function saveCache(config: RunnerConfig, paths: RunnerPaths, client: RunnerClient, log: Log): Promise<void> {
  const cache = config.cache;
  if (!cache) return;
  const state = await readState(paths.state);
  const key = state?.cacheKey;
  if (key === undefined || state?.cacheHit) return;
  try {
    const files = (await findFiles(paths.workspace, cache.paths)).filter((file) => file !== CACHE_MANIFEST);
    if (files.length === 0) {
      log(`cache: warning: no files match ${cache.paths.join(", ")}; nothing saved`);
      return;
    }
    const status = await client.upload("cache", `/cache/${encodeURIComponent(key)}`, () => packFiles(paths.workspace, files), [201, 409]);
    log(status === 409 ? `cache: ${key} already saved` : `cache: saved ${key} (${files.length} files)`);
  } catch (error) {
    log(`cache: warning: save failed: ${describe(error)}`);
  }
}

async function readState(stateDir: string): Promise<PrepareState | undefined> {
  try {
    return JSON.parse(await readFile(path.join(stateDir, PREPARE_STATE_FILE), "utf8")) as PrepareState;
  } catch {
    return undefined; // prepare resolved no key: nothing to save, as locally
  }
}

async function waitForFile(file: string, pollMs: number): Promise<void> {
  while (!(await exists(file))) await new Promise((resolve) => setTimeout(resolve, pollMs));
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}

async function totalSize(root: string, files: readonly string[]): Promise<number> {
  const sizes = await Promise.all(files.map((file) => lstat(path.join(root, file)).then((s) => (s.isFile() ? s.size : 0), () => 0)));
  return sizes.reduce((sum, size) => sum + size, 0);
}
