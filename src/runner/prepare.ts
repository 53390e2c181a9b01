// `gust-runner prepare`, the pod's init container: the step tools into the shared volume, the
// source into the workspace, then — as the local executor does before step 1 — the artifacts of
// the jobs this one needs and the cache (its key's hashFiles() resolved after the artifacts are in).
import { chmod, copyFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { resolveCacheKey } from "../executors/local/cache";
import { formatBytes, formatDuration } from "../executors/local/format";
import { cloneCommit } from "./git-source";
import type { RunnerClient } from "./runner-client";
import type { RunnerConfig, RunnerPaths } from "./runner-config";
import { describe } from "./retry";
import { unpackInto } from "./tar-stream";

/** The step entrypoint and the shell it runs with, copied from the helper image. */
export const TOOLS = ["busybox", "gust-step"] as const;
/** The hand-off from prepare to finish, in the state directory. */
export const PREPARE_STATE_FILE = "runner-prepare.json";
/** Percent-encoded key of the cache entry the API restored (see runner-routes.ts). */
const CACHE_KEY_HEADER = "gust-cache-key";

export interface PrepareState {
  /** The resolved cache key; absent when the job has no cache or resolving it failed. */
  cacheKey?: string;
  /** The exact key was restored: entries are immutable, so finish saves nothing. */
  cacheHit: boolean;
}

type Log = (text: string) => void;

export async function prepare(config: RunnerConfig, paths: RunnerPaths, client: RunnerClient, log: Log): Promise<void> {
  await installTools(paths, log);
  await mkdir(paths.workspace, { recursive: true });
  await fetchSource(config, paths.workspace, client, log);
  await restoreArtifacts(config.artifactsFrom, paths.workspace, client, log);
  const state: PrepareState = { cacheHit: false };
  if (config.cache) {
    try {
      state.cacheKey = await resolveCacheKey(config.cache.key, paths.workspace);
      state.cacheHit = await restoreCache(config.cache.restoreKeys, state.cacheKey, paths.workspace, client, log);
    } catch (error) {
      log(`cache: warning: restore failed: ${describe(error)}`); // a cache only saves time
    }
  }
  await writeFile(path.join(paths.state, PREPARE_STATE_FILE), `${JSON.stringify(state)}\n`);
}

async function installTools(paths: RunnerPaths, log: Log): Promise<void> {
  await mkdir(paths.bin, { recursive: true });
  for (const tool of TOOLS) {
    const target = path.join(paths.bin, tool);
    await copyFile(path.join(paths.toolsSource, tool), target);
    await chmod(target, 0o755);
  }
  await mkdir(paths.state, { recursive: true });
  // Steps may run as any user; they write their status files here. chmod: mkdir's mode obeys umask.
  await chmod(paths.state, 0o777);
  log(`tools: ${TOOLS.join(", ")} installed in ${paths.bin}`);
}

async function fetchSource(config: RunnerConfig, workspace: string, client: RunnerClient, log: Log): Promise<void> {
  const started = Date.now();
  const source = config.source;
  if (source.kind === "git") {
    await cloneCommit(source, workspace, log);
    log(`source: checked out ${source.commit} from ${source.url} in ${formatDuration(Date.now() - started)}`);
    return;
  }
  const unpacked = await client.download("source", "/source", (body) => unpackInto(workspace, body));
  if (!unpacked) throw new Error("source: Gust has no source for this job (GET /runner/v1/source answered 404)");
  log(`source: unpacked ${unpacked.files} files (${formatBytes(unpacked.bytes)}) in ${formatDuration(Date.now() - started)}`);
}

async function restoreArtifacts(jobKeys: readonly string[], workspace: string, client: RunnerClient, log: Log): Promise<void> {
  for (const jobKey of jobKeys) {
    const unpacked = await client.download(`artifacts from ${jobKey}`, `/artifacts/${encodeURIComponent(jobKey)}`, (body) => unpackInto(workspace, body));
    if (!unpacked) log(`artifacts: warning: no artifacts from ${jobKey} in this pipeline run`);
    else log(`artifacts: restored ${unpacked.files} files (${formatBytes(unpacked.bytes)}) from ${jobKey}`);
  }
}

/** Whether the exact key was restored. */
async function restoreCache(restoreKeys: readonly string[], key: string, workspace: string, client: RunnerClient, log: Log): Promise<boolean> {
  const query = new URLSearchParams({ key });
  for (const prefix of restoreKeys) query.append("restore", prefix);
  const restored = await client.download("cache", `/cache?${query}`, async (body, response) => {
    const header = response.headers.get(CACHE_KEY_HEADER);
    const unpacked = await unpackInto(workspace, body);
    return { ...unpacked, key: header === null ? key : decodeURIComponent(header) };
  });
  if (!restored) {
    log(`cache: miss for ${key}`);
    return false;
  }
  const exact = restored.key === key;
  log(`cache: restored ${restored.key} (${restored.files} files)${exact ? "" : ` for ${key}`}`);
  return exact;
}
