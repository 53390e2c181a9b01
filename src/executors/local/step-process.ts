// One step's shell: `sh -e -c <script>` leading its own process group, stdout and stderr split into
// lines as they are read.
import { spawn, type ChildProcess } from "node:child_process";
import { LineSplitter } from "./line-splitter";

export type OutputStream = "stdout" | "stderr";
export type LineListener = (stream: OutputStream, text: string) => void;

export interface StepExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The shell could not be started at all. */
  error?: Error;
}

/**
 * How long to wait after the shell exited for its output pipes to close. They normally close at
 * once; if they do not, a background process (`server &`) inherited them and the step is over anyway.
 */
const PIPE_CLOSE_GRACE_MS = 100;

export class StepProcess {
  readonly pid: number | undefined;
  readonly exited: Promise<StepExit>;
  /** Resolves when both output pipes are closed (possibly long after exit, see above). */
  readonly closed: Promise<void>;
  private readonly child: ChildProcess;
  private listener: LineListener;
  private readonly splitters: LineSplitter[] = [];
  private exitSeen = false;
  private pipesClosed = false;

  constructor(options: { script: string; cwd: string; env: NodeJS.ProcessEnv; onLine: LineListener }) {
    this.listener = options.onLine;
    this.child = spawn("/bin/sh", ["-e", "-c", options.script], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.pid = this.child.pid;
    const child = this.child;
    this.pipe(child, "stdout");
    this.pipe(child, "stderr");

    this.closed = new Promise((resolve) => {
      child.once("close", () => {
        this.pipesClosed = true;
        resolve();
      });
    });
    this.exited = new Promise((resolve) => {
      child.once("error", (error) => {
        this.exitSeen = true;
        resolve({ exitCode: null, signal: null, error });
      });
      child.once("exit", (exitCode, signal) => {
        this.exitSeen = true;
        const result = { exitCode, signal };
        if (this.pipesClosed) return resolve(result);
        const timer = setTimeout(() => resolve(result), PIPE_CLOSE_GRACE_MS);
        void this.closed.then(() => {
          clearTimeout(timer);
          resolve(result);
        });
      });
    });
  }

  /** The shell is gone (its exit may not have been reported through `exited` yet). */
  get hasExited(): boolean {
    return this.exitSeen;
  }

  /** Something it started in the background still holds its output open. */
  get hasOpenPipes(): boolean {
    return !this.pipesClosed;
  }

  /**
   * Routes lines still arriving after the step finished (from background processes) elsewhere. An
   * unterminated last line written before the shell exited still belongs to the step.
   */
  redirect(listener: LineListener): void {
    for (const splitter of this.splitters) splitter.flushPartial();
    this.listener = listener;
  }

  /** Stops reading the pipes (after the job's processes were killed). */
  destroy(): void {
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
  }

  private pipe(child: ChildProcess, stream: OutputStream): void {
    const readable = child[stream];
    if (!readable) return;
    const splitter = new LineSplitter((text) => this.listener(stream, text));
    this.splitters.push(splitter);
    readable.on("data", (chunk: Buffer) => splitter.write(chunk));
    readable.once("end", () => splitter.end());
    readable.on("error", () => {}); // a broken pipe only ends the output; the exit status still counts
  }
}
