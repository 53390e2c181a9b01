// Live, human output of `gust run`: each line prefixed by its job and step, colored on a terminal.
import type { RunnerEvent } from "../../app/pipeline-runner";
import { formatDuration } from "../../pipeline";
import type { Palette } from "./colors";

const MAX_JOB_WIDTH = 28;
const MAX_STEP_WIDTH = 24;

export class PrettyReporter {
  private readonly jobColor = new Map<string, number>();
  private readonly width: number;

  constructor(
    private readonly write: (text: string) => void,
    private readonly colors: Palette,
    jobNames: string[],
  ) {
    this.width = Math.min(MAX_JOB_WIDTH, Math.max(0, ...jobNames.map((name) => name.length)));
    jobNames.forEach((name, index) => this.jobColor.set(name, index));
  }

  handle(event: RunnerEvent): void {
    const { colors } = this;
    const job = this.prefix(event.job.name);
    switch (event.type) {
      case "job-started":
        if (event.attempt > 1) this.line(`${job} ${colors.yellow(`↻ attempt ${event.attempt}`)}`);
        return;
      case "job-retrying":
        this.line(`${job} ${colors.yellow(`↻ retrying (${event.reason}), attempt ${event.attempt} of ${event.job.retry.count + 1}`)}`);
        return;
      case "job-finished": {
        const { summary } = event;
        if (summary.status === "success") this.line(`${job} ${colors.green("✔ job succeeded")} ${colors.dim(formatDuration(summary.durationMs))}`);
        else if (summary.status === "skipped") this.line(`${job} ${colors.gray(`○ skipped: ${summary.detail ?? ""}`)}`);
        else if (summary.status === "cancelled") this.line(`${job} ${colors.yellow(`■ cancelled${summary.detail ? `: ${summary.detail}` : ""}`)}`);
        else this.line(`${job} ${colors.red(`✘ job ${summary.status === "error" ? "errored" : summary.status === "timed-out" ? "timed out" : "failed"}${summary.detail ? `: ${summary.detail}` : ""}`)}`);
        return;
      }
      case "job-event":
        break;
    }
    const inner = event.event;
    switch (inner.type) {
      case "step-started":
        this.line(`${job} ${colors.cyan("▶")} ${colors.bold(this.stepName(event, inner.step))}`);
        return;
      case "step-finished": {
        const name = this.stepName(event, inner.step);
        const time = colors.dim(formatDuration(inner.durationMs));
        if (inner.status === "success") this.line(`${job} ${colors.green("✔")} ${name} ${time}`);
        else if (inner.status === "skipped") this.line(`${job} ${colors.gray(`○ ${name} skipped${inner.reason ? ` (${inner.reason})` : ""}`)}`);
        else {
          const why = inner.reason ?? (inner.exitCode !== null ? `exit ${inner.exitCode}` : inner.status);
          this.line(`${job} ${colors.red("✘")} ${name} ${colors.red(why)} ${time}`);
        }
        return;
      }
      case "log": {
        if (inner.step === null) {
          this.line(`${job} ${colors.dim(`· ${inner.text}`)}`);
          return;
        }
        const step = colors.dim(`${truncate(this.stepName(event, inner.step), MAX_STEP_WIDTH)} │`);
        this.line(`${job} ${step} ${inner.stream === "stderr" ? colors.yellow(inner.text) : inner.text}`);
        return;
      }
      default:
        return;
    }
  }

  private stepName(event: Extract<RunnerEvent, { type: "job-event" }>, index: number): string {
    return event.job.steps[index]?.name ?? `step ${index + 1}`;
  }

  private prefix(name: string): string {
    return this.colors.cycle(this.jobColor.get(name) ?? 0, truncate(name, this.width).padEnd(this.width));
  }

  private line(text: string): void {
    this.write(`${text}\n`);
  }
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}
