// A job pod on the host: one process per step container, all started at once on a shared state
// directory, each running runner-images/entrypoint/gust-step the way the pod spec does.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

export const ENTRYPOINT = fileURLToPath(new URL("../../runner-images/entrypoint/gust-step", import.meta.url));

/**
 * Debian's static busybox, which the helper image ships and the pods run the entrypoint with.
 * Throws with what to install when it is missing (.ci/run installs it).
 */
export function hostBusybox(): string {
  const path = ["/usr/bin/busybox", "/bin/busybox"].find((candidate) => existsSync(candidate));
  const works = path !== undefined && spawnSync(path, ["sleep", "0.01"]).status === 0;
  if (!path || !works) {
    throw new Error(
      "busybox is missing on this machine: the step entrypoint tests run it the way pods do. Install it with `apt-get install busybox-static` (.ci/run does).",
    );
  }
  return path;
}

export interface PodStep {
  /** The step's script text (run with `/bin/sh -e`). */
  script: string;
  /** GUST_STEP_* settings and anything else the step container would get. */
  env?: Record<string, string>;
}

export interface StepEnd {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** /gust/state/<N>.status, undefined when not written. */
  status: string | undefined;
  /** What the entrypoint wrote to its termination log, undefined when nothing. */
  message: string | undefined;
}

export class SimulatedPod {
  /** Every process the pod started carries GUST_TEST_POD=<token> in its environment. */
  readonly token = randomBytes(8).toString("hex");
  readonly stateDir: string;
  readonly workspace: string;
  private readonly children: ChildProcess[] = [];
  private readonly ends: Promise<StepEnd>[] = [];

  private constructor(readonly dir: string) {
    this.stateDir = join(dir, "state");
    this.workspace = join(dir, "workspace");
  }

  static async create(): Promise<SimulatedPod> {
    const pod = new SimulatedPod(await mkdtemp(join(tmpdir(), "gust-step-")));
    await mkdir(pod.stateDir);
    await mkdir(pod.workspace);
    await mkdir(join(pod.dir, "job"));
    await mkdir(join(pod.dir, "term"));
    return pod;
  }

  /** Starts one entrypoint per step, all at once, with `shell` (e.g. ["busybox", "sh"] or ["/bin/sh"]). */
  async start(shell: string[], busybox: string, steps: PodStep[]): Promise<void> {
    const scripts = steps.map((_, index) => join(this.dir, "job", `step-${index}.sh`));
    await Promise.all(steps.map((step, index) => writeFile(scripts[index]!, step.script)));
    steps.forEach((step, index) => {
      const [command, ...args] = shell;
      const child = spawn(command!, [...args, ENTRYPOINT], {
        cwd: this.workspace,
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          GUST_TEST_POD: this.token,
          GUST_BUSYBOX: busybox,
          GUST_STATE_DIR: this.stateDir,
          GUST_TERMINATION_LOG: this.terminationLog(index),
          GUST_STEP_INDEX: String(index),
          GUST_STEP_SCRIPT: scripts[index]!,
          GUST_STEP_WORKDIR: this.workspace,
          ...step.env,
        },
      });
      this.children.push(child);
      this.ends.push(this.ended(child, index));
    });
  }

  private terminationLog(index: number): string {
    return join(this.dir, "term", `step-${index}`);
  }

  private ended(child: ChildProcess, index: number): Promise<StepEnd> {
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    return new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (exitCode, signal) => {
        void Promise.all([readText(join(this.stateDir, `${index}.status`)), readText(this.terminationLog(index))]).then(
          ([status, message]) => resolve({ exitCode, signal, stdout, stderr, status, message }),
          reject,
        );
      });
    });
  }

  /** Sends a signal to step N's entrypoint (the container's main process). */
  kill(index: number, signal: NodeJS.Signals): void {
    this.children[index]!.kill(signal);
  }

  /** Every step's end, once all entrypoints exited. */
  finished(): Promise<StepEnd[]> {
    return Promise.all(this.ends);
  }

  /** The state directory's protocol files (without the entrypoints' own wake-up FIFOs, <N>.wake). */
  async stateFiles(): Promise<string[]> {
    return (await readdir(this.stateDir)).filter((name) => !name.endsWith(".wake")).sort();
  }

  /** Live (not zombie) processes that the pod started and that are still there. */
  async leftovers(): Promise<number[]> {
    const marker = Buffer.from(`GUST_TEST_POD=${this.token}\0`);
    const found: number[] = [];
    for (const entry of await readdir("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const environ = await readFile(`/proc/${entry}/environ`);
        if (!environ.includes(marker)) continue;
        const stat = await readFile(`/proc/${entry}/stat`, "utf8");
        const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
        if (state !== "Z" && state !== "X") found.push(Number(entry));
      } catch {
        // gone meanwhile, or another user's
      }
    }
    return found;
  }

  /** Kills whatever is left (after a failed assertion) and removes the directory. */
  async dispose(): Promise<void> {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    for (const pid of await this.leftovers()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Resolves once `path` exists; throws after `limitMs` so that a broken entrypoint fails the test instead of hanging it. */
export async function fileAppears(path: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${limitMs} ms`);
    await sleep(10);
  }
}
