// How a job's steps get started: through the job's launcher shell (step-launcher.ts), which forks
// them cheaply, or, for a step the launcher cannot express (or with no bash here), by a direct spawn.
// Owns the launcher, its private steps directory and the step files.
import { rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import type { JobRun, StepRun } from "../executor";
import { safeSegment } from "./paths";
import { launchableEnv, stepFileText } from "./step-file";
import { LaunchedStep, StepLauncher, findLauncherShell } from "./step-launcher";
import { StepProcess, type LineListener, type OutputStream } from "./step-process";

/** Variables that would make the launcher shell (bash) run files at startup; the steps still get them. */
const LAUNCHER_UNSAFE_ENV = ["BASH_ENV", "ENV"];

let launcherShell: string | null | undefined;
function launcherShellPath(): string | undefined {
  if (launcherShell === undefined) launcherShell = findLauncherShell() ?? null;
  return launcherShell ?? undefined;
}

export interface StepStarterSettings {
  job: JobRun;
  workRoot: string;
  /** The job's environment (process env, CI, GUST_*) once the workspace exists. */
  baseEnv: () => Record<string, string>;
  /** Where the launcher starts; each step cds to its own directory. */
  launcherCwd: () => string;
  /** Output that arrives after its step ended (processes a step left running). */
  late: (stream: OutputStream, text: string) => void;
}

/** A step ready to start: its step file is written when it goes through the launcher. */
export interface PreparedStep {
  script: string;
  cwd: string;
  env: Record<string, string>;
  stepFile?: string;
}

export class StepStarter {
  private launcher: StepLauncher | undefined;
  private readonly launchers: StepLauncher[] = [];
  private launcherEnv: Record<string, string> | undefined;
  private launcherDisabled = false;
  /** Private (0700) directory outside the workspace for the step files, removed at the end. */
  private stepsDir: string | undefined;

  constructor(private readonly settings: StepStarterSettings) {}

  async prepare(step: StepRun, cwd: string, env: Record<string, string>): Promise<PreparedStep> {
    const stepFile = await this.writeStepFile(step, cwd, env);
    return { script: step.script, cwd, env, ...(stepFile ? { stepFile } : {}) };
  }

  /** Starts a prepared step. Throws when a direct spawn is refused (e.g. a NUL byte in the env). */
  start(prepared: PreparedStep, onLine: LineListener): StepProcess | LaunchedStep {
    if (prepared.stepFile && this.launcher) return this.launcher.launch(path.basename(prepared.stepFile), onLine);
    return new StepProcess({ script: prepared.script, cwd: prepared.cwd, env: prepared.env, onLine });
  }

  /** The step file holds the step's environment: removed as soon as the step ends or is dropped. */
  release(prepared: PreparedStep): void {
    if (!prepared.stepFile) return;
    try {
      rmSync(prepared.stepFile, { force: true });
    } catch {
      // The whole steps directory is removed at the end of the job anyway.
    }
  }

  /** Kills the launchers; resolves when their output is closed. */
  killLaunchers(): Array<Promise<unknown>> {
    for (const launcher of this.launchers) launcher.kill();
    return this.launchers.map((launcher) => launcher.closed);
  }

  async dispose(): Promise<void> {
    for (const launcher of this.launchers) launcher.destroy();
    if (this.stepsDir) await rm(this.stepsDir, { recursive: true, force: true }).catch(() => undefined);
  }

  /**
   * Writes the step file for the launcher, starting the launcher if needed. Undefined when the step
   * has to be spawned directly (no launcher shell, an environment it cannot express, a fault).
   */
  private async writeStepFile(step: StepRun, cwd: string, env: Record<string, string>): Promise<string | undefined> {
    const shell = launcherShellPath();
    if (!shell || this.launcherDisabled) return undefined;
    const { job } = this.settings;
    try {
      if (!this.launcherEnv) {
        const launcherEnv: Record<string, string> = { ...this.settings.baseEnv(), ...job.env, ...job.secrets };
        for (const name of LAUNCHER_UNSAFE_ENV) delete launcherEnv[name];
        if (!launchableEnv(launcherEnv)) {
          this.launcherDisabled = true;
          return undefined;
        }
        this.launcherEnv = launcherEnv;
      }
      const text = stepFileText(this.launcherEnv, env, cwd, step.script);
      if (text === undefined) return undefined;
      this.stepsDir ??= await mkdtemp(path.join(this.settings.workRoot, `.${safeSegment(job.runId, "run id")}.steps-`));
      const file = path.join(this.stepsDir, String(step.index));
      // Synchronous: a few hundred bytes, and a thread pool round trip per step costs more.
      writeFileSync(file, text, { mode: 0o600 });
      if (!this.launcher?.usable) {
        this.launcher = new StepLauncher({
          shell,
          env: this.launcherEnv,
          cwd: this.settings.launcherCwd(),
          stepsDir: this.stepsDir,
          late: this.settings.late,
        });
        this.launchers.push(this.launcher);
      }
      return file;
    } catch {
      this.launcherDisabled = true;
      return undefined;
    }
  }
}
