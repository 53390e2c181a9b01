// Temp directories and helpers for running LocalExecutor in tests.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { JobHandle, JobOutcome, JobRun } from "../../src/executors/executor";
import { LocalExecutor, type LocalExecutorOptions } from "../../src/executors/local/index";
import type { ContractHarness } from "../contract/executor-contract";
import { buildJob, type JobPartial } from "../contract/job-defaults";
import { JobRecorder } from "../contract/job-recorder";

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
    otherExecutor: async () => new LocalExecutor({ ...dirs, killGraceMs: 500, ...options }),
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

export interface LocalTestRun {
  job: JobRun;
  outcome: JobOutcome;
  recorder: JobRecorder;
}

/**
 * A harness for the enclosing describe(): created before its tests, every job cleaned up after each
 * test, everything removed at the end. `run` starts a job, waits for it and checks the event order.
 */
export function useLocalHarness(options: Partial<LocalExecutorOptions> = {}): {
  harness: () => LocalHarness;
  run: (partial: JobPartial) => Promise<LocalTestRun>;
  track: (handle: JobHandle) => JobHandle;
} {
  let harness: LocalHarness | undefined;
  const handles: JobHandle[] = [];
  const current = (): LocalHarness => {
    if (!harness) throw new Error("the harness exists only inside the tests of its describe()");
    return harness;
  };
  beforeAll(async () => {
    harness = await createLocalHarness(options);
  });
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((handle) => handle.cleanup()));
  });
  afterAll(async () => {
    await harness?.teardown();
  });
  const track = (handle: JobHandle): JobHandle => {
    handles.push(handle);
    return handle;
  };
  return {
    harness: current,
    track,
    run: async (partial) => {
      const job = current().makeJob(partial);
      const recorder = new JobRecorder();
      const handle = track(await current().executor.start(job, recorder.listener));
      const outcome = await handle.wait();
      recorder.checkOrder(job);
      return { job, outcome, recorder };
    },
  };
}
