// Temp directories and helpers for running LocalExecutor in tests.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { JobRun } from "../../src/executors/executor";
import { LocalExecutor, type LocalExecutorOptions } from "../../src/executors/local/index";
import type { ContractHarness } from "../contract/executor-contract";
import { buildJob, type JobPartial } from "../contract/job-defaults";

export interface LocalHarness extends ContractHarness {
  executor: LocalExecutor;
  root: string;
  /** An empty directory used as the default workspace source. */
  source: string;
  dirs: Required<Pick<LocalExecutorOptions, "workRoot" | "artifactsDir" | "cacheDir">>;
  workspaceOf(job: JobRun): string;
  readWorkspaceFile(job: JobRun, relativePath: string): Promise<string | undefined>;
  isProcessRunning(pid: number): Promise<boolean>;
}

export async function createLocalHarness(options: Partial<LocalExecutorOptions> = {}): Promise<LocalHarness> {
  const root = await mkdtemp(path.join(tmpdir(), "gust-local-executor-"));
  const source = path.join(root, "source");
  await mkdir(source);
  const dirs = {
    workRoot: path.join(root, "work"),
    artifactsDir: path.join(root, "artifacts"),
    cacheDir: path.join(root, "cache"),
  };
  const executor = new LocalExecutor({ ...dirs, killGraceMs: 500, ...options });
  const workspaceOf = (job: JobRun): string => path.join(dirs.workRoot, job.runId);
  return {
    executor,
    root,
    source,
    dirs,
    workspaceOf,
    makeJob: (partial: JobPartial) => buildJob(partial, { workspace: { kind: "directory", path: source } }),
    readWorkspaceFile: (job, relativePath) =>
      readFile(path.join(workspaceOf(job), relativePath), "utf8").catch(() => undefined),
    isProcessRunning: async (pid) => isProcessRunning(pid),
    teardown: async () => {
      await executor.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Running means existing and not a zombie (orphans may stay zombies where PID 1 does not reap). */
export async function isProcessRunning(pid: number): Promise<boolean> {
  if (process.platform === "linux") {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
    if (stat === undefined) return false;
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs git in `cwd` with an identity, so commits work on any machine. */
export function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync(
    "git",
    ["-c", "user.email=test@example.com", "-c", "user.name=test", "-c", "init.defaultBranch=main", ...args],
    { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  ).trim();
}
