// What `gust-runner` is told: runner.json from the job's Secret (pod protocol v1) and the paths of
// the pod's volumes, which tests move elsewhere through environment variables.
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { CacheKeyPart } from "../executors/executor";
import type { PodSource } from "../executors/kubernetes/job-source";
import type { RunnerConfig } from "../executors/kubernetes/runner-config";

// One definition of runner.json, shared with the pod-spec builder that writes it.
export type { RunnerConfig } from "../executors/kubernetes/runner-config";
export type RunnerSource = PodSource;

export interface RunnerPaths {
  config: string;
  /** Where the helper image keeps busybox and gust-step. */
  toolsSource: string;
  /** The gust-tools volume: bin/ and state/. */
  tools: string;
  bin: string;
  state: string;
  workspace: string;
  terminationLog: string;
}

export function runnerPaths(env: NodeJS.ProcessEnv = process.env): RunnerPaths {
  const tools = env.GUST_TOOLS_DIR || "/gust";
  return {
    config: env.GUST_RUNNER_CONFIG || "/gust-job/runner.json",
    toolsSource: env.GUST_RUNNER_TOOLS_SRC || "/usr/local/bin",
    tools,
    bin: path.join(tools, "bin"),
    state: path.join(tools, "state"),
    workspace: env.GUST_WORKSPACE || "/workspace",
    terminationLog: env.GUST_TERMINATION_LOG || "/dev/termination-log",
  };
}

/** A runner.json this program cannot follow; the message names the field. */
export class RunnerConfigError extends Error {
  override readonly name = "RunnerConfigError";
}

export async function readRunnerConfig(file: string): Promise<RunnerConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new RunnerConfigError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RunnerConfigError(`${file} is not JSON: ${(error as Error).message}`);
  }
  return parseRunnerConfig(value, file);
}

export function parseRunnerConfig(value: unknown, file = "runner.json"): RunnerConfig {
  const fail = (field: string, what: string): never => {
    throw new RunnerConfigError(`${file}: ${field} ${what}`);
  };
  const root = object(value, "the file", fail);
  if (root.version !== 1) fail("version", `must be 1 (this runner speaks protocol v1), got ${JSON.stringify(root.version)}`);
  const runnerUrl = text(root.runnerUrl, "runnerUrl", fail);
  if (!/^https?:\/\//.test(runnerUrl)) fail("runnerUrl", "must be an http(s) URL");
  const lastStep = root.lastStep;
  if (typeof lastStep !== "number" || !Number.isInteger(lastStep) || lastStep < 0) fail("lastStep", "must be a step index (an integer ≥ 0)");
  return {
    version: 1,
    runnerUrl: runnerUrl.replace(/\/+$/, ""),
    token: text(root.token, "token", fail),
    source: parseSource(root.source, fail),
    artifactsFrom: strings(root.artifactsFrom ?? [], "artifactsFrom", fail),
    artifacts: root.artifacts == null ? null : { paths: strings(object(root.artifacts, "artifacts", fail).paths, "artifacts.paths", fail) },
    cache: root.cache == null ? null : parseCache(root.cache, fail),
    stopServices: root.stopServices === true,
    lastStep: lastStep as number,
  };
}

type Fail = (field: string, what: string) => never;

function parseSource(value: unknown, fail: Fail): RunnerSource {
  const source = object(value, "source", fail);
  if (source.kind === "archive") return { kind: "archive" };
  if (source.kind !== "git") return fail("source.kind", `must be "git" or "archive", got ${JSON.stringify(source.kind)}`);
  const depth = source.depth ?? 1;
  if (typeof depth !== "number" || !Number.isInteger(depth)) fail("source.depth", "must be an integer");
  let auth: { username: string; password: string } | undefined;
  if (source.auth != null) {
    const given = object(source.auth, "source.auth", fail);
    auth = { username: text(given.username, "source.auth.username", fail), password: text(given.password, "source.auth.password", fail) };
  }
  return {
    kind: "git",
    url: text(source.url, "source.url", fail),
    commit: text(source.commit, "source.commit", fail),
    ...(source.ref != null ? { ref: text(source.ref, "source.ref", fail) } : {}),
    depth: depth as number,
    submodules: source.submodules === true,
    ...(auth ? { auth } : {}),
  };
}

function parseCache(value: unknown, fail: Fail): NonNullable<RunnerConfig["cache"]> {
  const cache = object(value, "cache", fail);
  if (!Array.isArray(cache.key) || cache.key.length === 0) fail("cache.key", "must be a non-empty list");
  const key = (cache.key as unknown[]).map((part, index): CacheKeyPart => {
    if (typeof part === "string") return part;
    const field = `cache.key[${index}]`;
    return { hashFiles: strings(object(part, field, fail).hashFiles, `${field}.hashFiles`, fail) };
  });
  return { key, restoreKeys: strings(cache.restoreKeys ?? [], "cache.restoreKeys", fail), paths: strings(cache.paths, "cache.paths", fail) };
}

function object(value: unknown, field: string, fail: Fail): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(field, "must be an object");
  return value as Record<string, unknown>;
}

function text(value: unknown, field: string, fail: Fail): string {
  if (typeof value !== "string" || value === "") fail(field, "must be a non-empty string");
  return value as string;
}

function strings(value: unknown, field: string, fail: Fail): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) fail(field, "must be a list of strings");
  return value as string[];
}
