// A job's log lines from the API, printed the way `gust run` prints them: prefixed by the step's
// name (and by the job's when several jobs are followed at once), executor lines dimmed. Standard
// error keeps a `!` instead of the `│` separator, so it stays visible without colors too.
import type { LogLine, Step } from "../api-client";
import type { Palette } from "./colors";

const MAX_STEP_WIDTH = 24;
const MAX_JOB_WIDTH = 28;

export interface JobPrefix {
  name: string;
  /** Column width shared by the jobs printed together. */
  width: number;
  /** Index into the palette's cycle. */
  color: number;
}

export class LogPrinter {
  private readonly names = new Map<string, string>();
  private attempt = 1;

  constructor(
    private readonly write: (text: string) => void,
    private readonly colors: Palette,
    private readonly job?: JobPrefix,
  ) {}

  setSteps(steps: readonly Step[]): void {
    for (const step of steps) this.names.set(`${step.attempt}:${step.index}`, step.name);
  }

  /** Whether the line's step has a name yet (steps of a new attempt appear while it runs). */
  knowsStep(line: LogLine): boolean {
    return line.step === null || this.names.has(`${line.attempt}:${line.step}`);
  }

  print(line: LogLine): void {
    const { colors } = this;
    if (line.attempt !== this.attempt) {
      this.attempt = line.attempt;
      this.note(colors.yellow(`↻ attempt ${line.attempt}`));
    }
    if (line.step === null || line.stream === "system") {
      this.note(colors.dim(`· ${line.text}`));
      return;
    }
    const name = truncate(this.stepName(line.attempt, line.step), MAX_STEP_WIDTH);
    const text = line.stream === "stderr" ? `${colors.dim(`${name} !`)} ${colors.yellow(line.text)}` : `${colors.dim(`${name} │`)} ${line.text}`;
    this.note(text);
  }

  /** A line of the printer's own (job finished, attempt), under the job's prefix. */
  note(text: string): void {
    this.write(this.job ? `${this.prefix(this.job)} ${text}\n` : `${text}\n`);
  }

  private stepName(attempt: number, index: number): string {
    // A step keeps its name across attempts: an earlier attempt's name is better than a number.
    for (let a = attempt; a >= 1; a--) {
      const name = this.names.get(`${a}:${index}`);
      if (name !== undefined) return name;
    }
    return `step ${index + 1}`;
  }

  private prefix(job: JobPrefix): string {
    const width = Math.min(MAX_JOB_WIDTH, job.width);
    return this.colors.cycle(job.color, truncate(job.name, width).padEnd(width));
  }
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}
