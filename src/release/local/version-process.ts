// One version's process: `sh -c <command>` leading its own process group, PORT set to a free
// loopback port. start() resolves once the version is healthy and fails (permanently, with the
// last lines it printed) when it exits first or never becomes healthy. While serving, a crash is
// logged and the command started again on the same port, with a growing pause between attempts.
import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { ProviderError } from "../../errors";
import { freePort } from "./free-port";
import { probe } from "./health-check";
import { OutputTail } from "./output-tail";
import { terminateGroup } from "./process-group";

export interface VersionLaunch {
  command: string;
  cwd: string;
  env: Record<string, string>;
  healthPath?: string;
}

export type LogLevel = "info" | "warn" | "error";

export interface VersionProcessOptions {
  /** For messages: "local :8080 version 2". */
  label: string;
  launch: VersionLaunch;
  /** Where the version listens and is probed (it gets PORT; it should listen on this host). */
  host: string;
  startTimeoutMs: number;
  stopGraceMs: number;
  restartBackoffMs: { initial: number; max: number };
  onLog: (level: LogLevel, message: string, lines?: string[]) => void;
  /** Each time a process group is started (for finding leftovers after a crash of Gust). */
  onSpawn?: (pgid: number) => void;
}

type State = "idle" | "starting" | "running" | "restarting" | "stopping" | "stopped";

/** A run that lasted this long resets the pause before the next restart. */
const STABLE_RUN_MS = 60_000;

interface Run {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
  tail: OutputTail;
}

export class VersionProcess {
  private state: State = "idle";
  private run: Run | undefined;
  private assignedPort = 0;
  private backoffMs: number;
  private readonly stopping = new AbortController();

  constructor(private readonly options: VersionProcessOptions) {
    this.backoffMs = options.restartBackoffMs.initial;
  }

  /** The port the version listens on (set by start()). */
  get port(): number {
    return this.assignedPort;
  }

  get stopped(): boolean {
    return this.state === "stopping" || this.state === "stopped";
  }

  async start(): Promise<void> {
    if (this.state !== "idle") throw new Error(`${this.options.label} was started already`);
    this.state = "starting";
    this.assignedPort = await freePort(this.options.host);
    if (this.stopped) throw this.stoppedWhileStarting();
    const run = this.spawn();
    try {
      await this.waitHealthy(run);
    } catch (error) {
      this.state = "stopped";
      await this.end(run);
      throw error;
    }
    if (this.stopped) throw this.stoppedWhileStarting();
    this.state = "running";
    this.watch(run);
  }

  /** Ends the process group (SIGTERM, SIGKILL after the grace) and any pending restart. */
  async stop(): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "stopping";
    this.stopping.abort();
    if (this.run) await this.end(this.run);
    this.state = "stopped";
  }

  private stoppedWhileStarting(): ProviderError {
    return new ProviderError(`${this.options.label} was stopped while starting (Gust is shutting down)`, { retryable: true, code: "local_host_closing" });
  }

  private spawn(): Run {
    const { launch } = this.options;
    const child = spawn("/bin/sh", ["-c", launch.command], {
      cwd: launch.cwd,
      env: { ...launch.env, PORT: String(this.assignedPort) },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const tail = new OutputTail();
    tail.follow(child.stdout!);
    tail.follow(child.stderr!);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.once("error", (error) => resolve({ code: null, signal: null, error }));
      child.once("exit", (code, signal) => resolve({ code, signal }));
    });
    const run = { child, exited, tail };
    this.run = run;
    if (child.pid !== undefined) this.options.onSpawn?.(child.pid);
    return run;
  }

  private async waitHealthy(run: Run): Promise<void> {
    const { label, startTimeoutMs, host, launch } = this.options;
    const deadline = Date.now() + startTimeoutMs;
    let exit: Awaited<Run["exited"]> | undefined;
    void run.exited.then((result) => (exit = result));
    let delay = 10;
    for (;;) {
      if (this.stopped) return;
      if (exit) throw startFailure(`${label} exited ${describeExit(exit)} before it was healthy`, run.tail);
      if (await probe(host, this.assignedPort, launch.healthPath)) return;
      if (Date.now() >= deadline) {
        const check = launch.healthPath ? `GET ${launch.healthPath} answering 2xx or 3xx` : `a connection to PORT ${this.assignedPort}`;
        throw startFailure(`${label} was not healthy within ${startTimeoutMs} ms (waited for ${check})`, run.tail);
      }
      await Promise.race([sleep(delay), run.exited]);
      delay = Math.min(delay * 2, 250);
    }
  }

  /** While serving: a crash is logged and followed by a restart after a pause. */
  private watch(run: Run): void {
    const startedAt = Date.now();
    void run.exited.then(async (exit) => {
      if (this.stopped || this.run !== run) return;
      this.state = "restarting";
      if (Date.now() - startedAt >= STABLE_RUN_MS) this.backoffMs = this.options.restartBackoffMs.initial;
      const { label, onLog } = this.options;
      onLog("warn", `${label} exited ${describeExit(exit)} while serving; starting it again in ${this.backoffMs} ms`, run.tail.get());
      await this.restartLoop();
    });
  }

  private async restartLoop(): Promise<void> {
    const { label, onLog, restartBackoffMs } = this.options;
    for (;;) {
      try {
        await sleep(this.backoffMs, undefined, { signal: this.stopping.signal });
      } catch {
        return; // stopped during the pause
      }
      this.backoffMs = Math.min(this.backoffMs * 2, restartBackoffMs.max);
      const run = this.spawn();
      try {
        await this.waitHealthy(run);
        if (this.stopped) return;
        this.state = "running";
        onLog("info", `${label} is serving again`);
        this.watch(run);
        return;
      } catch (error) {
        await this.end(run);
        if (this.stopped) return;
        onLog("error", `${(error as Error).message}; trying again in ${this.backoffMs} ms`, run.tail.get());
      }
    }
  }

  private async end(run: Run): Promise<void> {
    const pid = run.child.pid;
    if (pid !== undefined) await terminateGroup(pid, this.options.stopGraceMs);
    await run.exited;
  }
}

function describeExit(exit: { code: number | null; signal: NodeJS.Signals | null; error?: Error }): string {
  if (exit.error) return `(could not start: ${exit.error.message})`;
  return exit.signal ? `(signal ${exit.signal})` : `(exit code ${exit.code})`;
}

/** A version that does not start: permanent (the command or the app is wrong), with its last words. */
function startFailure(message: string, tail: OutputTail): ProviderError {
  const lines = tail.get();
  const output = lines.length > 0 ? `; last output:\n${lines.map((line) => `  ${line}`).join("\n")}` : "; it printed nothing";
  return new ProviderError(message + output, { retryable: false, fault: "user", code: "local_version_unhealthy" });
}
