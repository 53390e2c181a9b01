// Runs the bundled `gust-runner` (dist/gust-runner.mjs, copied away from node_modules, as in the
// helper image) against a real runner API listener, with the pod's paths moved into temp dirs.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import { createRunnerApi, FileBlobStore, mintRunnerToken, RUNNER_API_BASE_PATH, type RunnerTokenGrant } from "../../src/runner-api";
import type { RunnerConfig } from "../../src/runner/runner-config";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface RunnerResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What the runner wrote to its termination log, "" when nothing. */
  termination: string;
}

export interface Pod {
  tools: string;
  workspace: string;
  /** Spawns `gust-runner <command>`; `env` adds variables (GUST_SERVICE_PIDS …). */
  run(command: "prepare" | "finish", env?: Record<string, string>): Promise<RunnerResult>;
  /** The argv to run `gust-runner <command>` in this pod, with its environment. */
  command(command: "prepare" | "finish"): { argv: string[]; env: NodeJS.ProcessEnv };
}

export interface RunnerApiListener {
  url: string;
  key: Buffer;
  token(grant: Partial<RunnerTokenGrant> & { job: string }): string;
  close(): Promise<void>;
}

export function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" },
  }).trim();
}

export async function startRunnerApi(dataDir: string, sourceExclude: string[] = []): Promise<RunnerApiListener> {
  const key = randomBytes(32);
  const app = new Hono().route(RUNNER_API_BASE_PATH, createRunnerApi({ tokenKey: key, blobs: new FileBlobStore(dataDir), maxUploadBytes: 64 * 1024 * 1024, sourceExclude }));
  let server: ServerType | undefined;
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`,
    key,
    token: (grant) => mintRunnerToken(key, { run: `run-${grant.job}`, pipelineRun: "pr-1", needs: [], cacheScope: "repo-1", ...grant }, 60_000),
    close: async () => {
      if (server && "closeAllConnections" in server) server.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    },
  };
}

/** The bundle and stand-ins for busybox and gust-step, copied to `dir`. */
export async function installRunner(dir: string): Promise<{ bundle: string; toolsSource: string }> {
  const bundle = path.join(dir, "lib", "gust-runner.mjs");
  const toolsSource = path.join(dir, "tools");
  await mkdir(path.dirname(bundle), { recursive: true });
  await mkdir(toolsSource, { recursive: true });
  await copyFile(path.join(REPO_ROOT, "dist", "gust-runner.mjs"), bundle);
  await writeFile(path.join(toolsSource, "busybox"), "#!/bin/sh\necho busybox stand-in\n", { mode: 0o700 });
  await writeFile(path.join(toolsSource, "gust-step"), "# gust-step stand-in\n", { mode: 0o600 });
  return { bundle, toolsSource };
}

/** A pod's volumes under `dir`, its runner.json written from `config`. */
export async function makePod(dir: string, installed: { bundle: string; toolsSource: string }, config: RunnerConfig): Promise<Pod> {
  const tools = path.join(dir, "gust");
  const workspace = path.join(dir, "workspace");
  const configFile = path.join(dir, "gust-job", "runner.json");
  const terminationLog = path.join(dir, "termination-log");
  await mkdir(path.dirname(configFile), { recursive: true });
  await writeFile(configFile, JSON.stringify(config));
  const command = (name: "prepare" | "finish"): { argv: string[]; env: NodeJS.ProcessEnv } => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GUST_RUNNER_CONFIG: configFile,
      GUST_RUNNER_TOOLS_SRC: installed.toolsSource,
      GUST_TOOLS_DIR: tools,
      GUST_WORKSPACE: workspace,
      GUST_TERMINATION_LOG: terminationLog,
    };
    return { argv: [process.execPath, installed.bundle, name], env };
  };
  return {
    tools,
    workspace,
    command,
    run: async (name, extraEnv = {}) => {
      const { argv, env } = command(name);
      if (name === "finish" && config.stopServices && !extraEnv.GUST_SERVICE_PIDS) {
        // kill(-1) on this machine would signal every process of the user running the tests.
        throw new Error("refusing to run finish with stopServices outside a PID namespace without GUST_SERVICE_PIDS");
      }
      const result = await spawnCollect(argv, { ...env, ...extraEnv });
      const termination = await readFile(terminationLog, "utf8").catch(() => "");
      return { ...result, termination };
    },
  };
}

export function spawnCollect(argv: string[], env: NodeJS.ProcessEnv): Promise<Omit<RunnerResult, "termination">> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export function baseConfig(api: RunnerApiListener, token: string, overrides: Partial<RunnerConfig> = {}): RunnerConfig {
  return {
    version: 1,
    runnerUrl: api.url,
    token,
    source: { kind: "archive" },
    artifactsFrom: [],
    artifacts: null,
    cache: null,
    stopServices: false,
    lastStep: 0,
    ...overrides,
  };
}
