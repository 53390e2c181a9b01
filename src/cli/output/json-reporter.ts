// `--json`: one JSON object per line, for tools. Field names are stable.
import type { PipelineResult, RunnerEvent } from "../../app/pipeline-runner";

export class JsonReporter {
  constructor(private readonly write: (text: string) => void) {}

  emit(record: Record<string, unknown>): void {
    this.write(`${JSON.stringify(record)}\n`);
  }

  handle(event: RunnerEvent): void {
    const base = { job: event.job.name, jobKey: event.job.key };
    switch (event.type) {
      case "job-started":
        this.emit({ type: "job-started", time: iso(event.at), ...base, attempt: event.attempt });
        return;
      case "job-retrying":
        this.emit({ type: "job-retrying", time: iso(event.at), ...base, attempt: event.attempt, reason: event.reason });
        return;
      case "job-finished":
        this.emit({ type: "job-finished", time: iso(event.at), ...base, status: event.summary.status, durationMs: event.summary.durationMs, attempts: event.summary.attempts, detail: event.summary.detail });
        return;
      case "job-event":
        break;
    }
    const inner = event.event;
    const step = (index: number | null) => (index === null ? null : (event.job.steps[index]?.name ?? null));
    switch (inner.type) {
      case "step-started":
        this.emit({ type: "step-started", time: iso(inner.at), ...base, attempt: event.attempt, step: inner.step, stepName: step(inner.step) });
        return;
      case "step-finished":
        this.emit({ type: "step-finished", time: iso(inner.at), ...base, attempt: event.attempt, step: inner.step, stepName: step(inner.step), status: inner.status, exitCode: inner.exitCode, durationMs: inner.durationMs, reason: inner.reason });
        return;
      case "log":
        this.emit({ type: "log", time: iso(inner.at), ...base, attempt: event.attempt, step: inner.step, stepName: step(inner.step), stream: inner.stream, text: inner.text });
        return;
      default:
        return;
    }
  }

  summary(result: PipelineResult): void {
    this.emit({ type: "summary", status: result.status, durationMs: result.durationMs, jobs: result.jobs });
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
