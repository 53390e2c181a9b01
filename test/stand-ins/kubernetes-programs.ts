// What each simulated container "runs", following protocol.md: `gust-prepare` prints progress and
// exits 0 (or fails when the test says so); `step-<N>` behaves as the step entrypoint (waits for the
// previous step's done-file, decides to skip, runs the script from the job Secret with its timeout,
// records failure, writes the termination message, exits with the protocol's code); `gust-finish`
// waits for the last step and stops the services; `service-*` containers run until stopped. Any
// other container runs its `sh -c` script, or (an init container) exits 0, or runs until killed.
import { setTimeout as delay } from "node:timers/promises";
import { containerExitCode, parseScript, runScript, skipReason, stepSettings, terminationMessage, type StepOutcome, type StepSettings } from "./kubernetes-step-script";
import type { ContainerSpec, Pod } from "./kubernetes-types";

export interface ContainerExit {
  exitCode: number;
  /** The termination message (the file at terminationMessagePath). */
  message?: string;
}

/** The shared /gust/state directory of one pod: done-files and the `failed` marker. */
export class JobState {
  failed = false;
  private readonly done = new Set<number>();
  private readonly waiters = new Map<number, Array<() => void>>();

  markDone(index: number): void {
    this.done.add(index);
    for (const wake of this.waiters.get(index) ?? []) wake();
    this.waiters.delete(index);
  }

  whenDone(index: number, signal: AbortSignal): Promise<void> {
    if (this.done.has(index)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(index) ?? [];
      list.push(resolve);
      this.waiters.set(index, list);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  }
}

export interface ProgramContext {
  /** Aborted when the container is killed (pod deleted, deadline exceeded, stand-in closed). */
  signal: AbortSignal;
  now(): number;
  pod: Pod;
  env: Record<string, string>;
  log(text: string): void;
  /** A file of a Secret volume mounted into this container. */
  file(path: string): string | undefined;
  job: JobState;
  /** Remembers when a step's script started, for the termination message if the step is cancelled. */
  stepStarted(ms: number): void;
  /** The finish container stops the services (kill(-1) in a shared process namespace). */
  stopServices(): void;
  servicesStopped: Promise<void>;
  serviceExitCode: number;
  transitionMs: number;
  /** Why the prepare init container fails, when the test wants it to. */
  prepareFailure: string | undefined;
}

export function isService(name: string): boolean {
  return name.startsWith("service-");
}

export async function runContainer(container: ContainerSpec, init: boolean, context: ProgramContext): Promise<ContainerExit> {
  const argv = [...(container.command ?? []), ...(container.args ?? [])];
  if (init && argv.includes("gust-runner") && argv.includes("prepare")) return prepare(context);
  const step = stepSettings(context.env);
  if (step) return runStep(step, context);
  if (argv.includes("gust-runner") && argv.includes("finish")) return finish(context);
  if (isService(container.name)) {
    await abortable(context.servicesStopped, context.signal);
    return { exitCode: context.serviceExitCode };
  }
  const script = shellScript(argv);
  if (script !== undefined) {
    const code = await runScript(parseScript(script, context.env), { log: context.log, sleep: (ms) => delay(ms, undefined, { signal: context.signal }) }, false);
    return { exitCode: code };
  }
  if (init) return { exitCode: 0 };
  await abortable(new Promise<void>(() => {}), context.signal);
  return { exitCode: 0 };
}

/** The script of `sh -c SCRIPT` (also bash, busybox sh, /bin/sh). */
function shellScript(argv: string[]): string | undefined {
  const shells = ["sh", "bash", "ash", "dash"];
  const name = (argv[0] ?? "").split("/").pop()!;
  const shell = shells.includes(name) || (name === "busybox" && shells.includes(argv[1] ?? ""));
  const flag = argv.indexOf("-c");
  return shell && flag >= 0 ? (argv[flag + 1] ?? "") : undefined;
}

async function prepare(context: ProgramContext): Promise<ContainerExit> {
  context.log("gust-runner prepare: installed /gust/bin/busybox and /gust/bin/gust-step");
  await delay(context.transitionMs, undefined, { signal: context.signal });
  if (context.prepareFailure) {
    context.log(`gust-runner prepare: ${context.prepareFailure}`);
    return { exitCode: 1, message: context.prepareFailure };
  }
  context.log("gust-runner prepare: workspace ready");
  return { exitCode: 0 };
}

async function runStep(settings: StepSettings, context: ProgramContext): Promise<ContainerExit> {
  if (settings.index > 0) await context.job.whenDone(settings.index - 1, context.signal);
  const skip = skipReason(settings, context.job.failed);
  let outcome: StepOutcome;
  if (skip) {
    outcome = { status: "skipped", exit: undefined, startedMs: undefined, finishedMs: context.now(), reason: skip };
  } else {
    const startedMs = context.now();
    context.stepStarted(startedMs);
    const timeout = new AbortController();
    const timer = settings.timeoutMs > 0 ? setTimeout(() => timeout.abort(), settings.timeoutMs) : undefined;
    const signal = AbortSignal.any([context.signal, timeout.signal]);
    let exit: number | "timed-out";
    try {
      const script = context.file(settings.scriptPath);
      if (script === undefined) {
        context.log(`sh: can't open '${settings.scriptPath}': No such file or directory`);
        exit = 2;
      } else {
        exit = await runScript(parseScript(script, context.env), { log: context.log, sleep: (ms) => delay(ms, undefined, { signal }) }, true);
      }
    } catch (error) {
      if (context.signal.aborted || !timeout.signal.aborted) throw error;
      exit = "timed-out";
    } finally {
      clearTimeout(timer);
    }
    const finishedMs = context.now();
    if (exit === "timed-out") {
      outcome = { status: "timed-out", exit: 124, startedMs, finishedMs, reason: `timed out after ${settings.timeoutMs / 1000}s` };
    } else outcome = { status: exit === 0 ? "success" : "failure", exit, startedMs, finishedMs };
  }
  if ((outcome.status === "failure" || outcome.status === "timed-out") && !settings.continueOnError) context.job.failed = true;
  context.job.markDone(settings.index);
  return { exitCode: containerExitCode(outcome), message: terminationMessage(outcome) };
}

async function finish(context: ProgramContext): Promise<ContainerExit> {
  const config = JSON.parse(context.file(context.env.GUST_RUNNER_CONFIG ?? "/gust-job/runner.json") ?? "{}") as { lastStep?: number; stopServices?: boolean; artifacts?: unknown; cache?: unknown };
  const steps = context.pod.spec.containers.map((container) => /^step-(\d+)$/.exec(container.name)).filter((match) => match !== null);
  const lastStep = config.lastStep ?? Math.max(...steps.map((match) => Number(match[1])));
  await context.job.whenDone(lastStep, context.signal);
  if (config.artifacts && !context.job.failed) context.log("gust-runner finish: uploaded artifacts");
  if (config.cache) context.log("gust-runner finish: saved cache");
  if (config.stopServices ?? context.pod.spec.containers.some((container) => isService(container.name))) {
    context.log("gust-runner finish: stopping services");
    context.stopServices();
  }
  return { exitCode: 0 };
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    promise.then(resolve, reject);
  });
}
