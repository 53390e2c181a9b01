// One long-lived launcher shell per job that forks each step's shell itself: a Node spawn costs several
// milliseconds more than a fork from a shell, which dominated jobs of many short steps.
//
// Protocol. Node writes one line per step on the launcher's fd 3: the name of a step file (see
// step-file.ts) in the job's private steps directory (short: the shell reads it byte by byte) that exports the step's own variables, cds into its directory and execs
// `/bin/sh -e -c <script>`. The launcher runs it as a background job of its own process group
// (bash `set -m`), reports `started <pid>` on fd 4 (pid = process group id), waits for it, writes the
// job's boundary token as a line to stdout and to stderr, then reports `exit <status>` on fd 4.
// stdout and stderr are shared by all steps: a line belongs to the current step until that stream's
// boundary; what comes after it (background processes a step left running) is "late" output.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { LineSplitter } from "./line-splitter";
import type { LineListener, OutputStream, StepExit } from "./step-process";

// $1: the boundary token, $2: the steps directory. The launcher's own stderr goes to /dev/null (job notices); the steps get
// the real one, saved as fd 5.
const LAUNCHER = `exec 5>&2 2>/dev/null
set -m
while IFS= read -r f <&3; do
  ( . "$2/$f" ) 2>&5 3<&- 4<&- 5>&- </dev/null &
  p=$!
  echo "started $p" >&4
  wait "$p"
  c=$?
  echo "$1"
  echo "$1" >&5
  echo "exit $c" >&4
done
`;

/** A shell that can give a non-interactive background job its own process group. */
export function findLauncherShell(): string | undefined {
  for (const candidate of ["/bin/bash", "/usr/bin/bash", "/usr/local/bin/bash"]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export class LaunchedStep {
  pid: number | undefined;
  readonly exited: Promise<StepExit>;
  private resolveExit!: (exit: StepExit) => void;
  private readonly pidListeners: ((pid: number) => void)[] = [];
  private status: number | undefined;
  private exitSeen = false;
  private done = false;
  readonly boundaries = new Set<OutputStream>();

  constructor(readonly onLine: LineListener) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  /** The step's shell is gone (its exit may not have been reported through `exited` yet). */
  get hasExited(): boolean {
    return this.exitSeen;
  }

  /** Calls `listener` with the process group id once known (at once if it is). */
  onPid(listener: (pid: number) => void): void {
    if (this.pid !== undefined) listener(this.pid);
    else this.pidListeners.push(listener);
  }

  started(pid: number): void {
    this.pid = pid;
    for (const listener of this.pidListeners.splice(0)) listener(pid);
  }

  exitReported(status: number): void {
    this.exitSeen = true;
    this.status = status;
    this.settle();
  }

  boundary(stream: OutputStream): void {
    this.boundaries.add(stream);
    this.settle();
  }

  fail(error: Error): void {
    this.exitSeen = true;
    if (this.done) return;
    this.done = true;
    this.resolveExit({ exitCode: null, signal: null, error });
  }

  get finished(): boolean {
    return this.done;
  }

  private settle(): void {
    if (this.done || this.status === undefined || this.boundaries.size < 2) return;
    this.done = true;
    // A shell killed by signal n shows as status 128+n, like a shell whose last command was killed.
    this.resolveExit({ exitCode: this.status, signal: null });
  }
}

export class StepLauncher {
  readonly pid: number | undefined;
  private readonly child: ChildProcess;
  private current: LaunchedStep | undefined;
  private dead = false;
  private readonly closedPromise: Promise<void>;

  /** Throws like spawn() does on invalid input (e.g. a NUL byte in the environment). */
  constructor(options: { shell: string; env: Record<string, string>; cwd: string; stepsDir: string; late: LineListener }) {
    const token = `::gust-step-boundary-${randomBytes(12).toString("hex")}::`;
    this.child = spawn(options.shell, ["-c", LAUNCHER, "gust-launcher", token, options.stepsDir], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
    });
    this.pid = this.child.pid;
    const child = this.child;
    for (const stream of ["stdout", "stderr"] as const) {
      const readable = child[stream];
      if (!readable) continue;
      const splitter = new LineSplitter(
        (text) => {
          const step = this.current;
          if (step && !step.boundaries.has(stream)) step.onLine(stream, text);
          else options.late(stream, text);
        },
        undefined,
        { token, onBoundary: () => this.current?.boundary(stream) },
      );
      readable.on("data", (chunk: Buffer) => splitter.write(chunk));
      readable.once("end", () => splitter.end());
      readable.on("error", () => {});
    }
    const control = child.stdio[4] as NodeJS.ReadableStream | null;
    const reports = new LineSplitter((line) => this.report(line));
    control?.on("data", (chunk: Buffer) => reports.write(chunk));
    control?.on("error", () => {});
    child.stdio[3]?.on("error", () => {});
    this.closedPromise = new Promise((resolve) => child.once("close", () => resolve()));
    child.once("error", (error) => this.die(error));
    child.once("exit", (code, signal) => this.die(new Error(`the step launcher exited (${signal ?? code})`)));
    if (this.pid === undefined) this.dead = true;
  }

  /** It can take another step. */
  get usable(): boolean {
    return !this.dead && this.current === undefined;
  }

  /** Resolves once the launcher and everything holding its output are gone. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /** `name`: a file name in the steps directory, without newline. */
  launch(name: string, onLine: LineListener): LaunchedStep {
    const step = new LaunchedStep(onLine);
    this.current = step;
    void step.exited.then(() => {
      if (this.current === step) this.current = undefined;
    });
    const input = this.child.stdio[3] as NodeJS.WritableStream | null;
    if (this.dead || !input) step.fail(new Error("the step launcher is not running"));
    else input.write(`${name}\n`);
    return step;
  }

  /** Kills the launcher (its own process group; the steps' groups are the job's to end). */
  kill(): void {
    this.dead = true;
    (this.child.stdio[3] as NodeJS.WritableStream | null)?.end();
    if (this.pid !== undefined) {
      try {
        process.kill(-this.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  /** Stops reading its output (after the job's processes were killed). */
  destroy(): void {
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    (this.child.stdio[4] as NodeJS.ReadableStream & { destroy?: () => void } | null)?.destroy?.();
  }

  private report(line: string): void {
    const step = this.current;
    if (!step) return;
    const match = /^(started|exit) (\d+)$/.exec(line);
    if (!match) return;
    if (match[1] === "started") step.started(Number(match[2]));
    else step.exitReported(Number(match[2]));
  }

  private die(error: Error): void {
    this.dead = true;
    const step = this.current;
    this.current = undefined;
    step?.fail(error);
  }
}
