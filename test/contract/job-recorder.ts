// Records a job's events and checks the ordering rules of the executor contract on them.
import { expect } from "vitest";
import type { ExecutorEvent, JobRun } from "../../src/executors/executor";

type LogEvent = Extract<ExecutorEvent, { type: "log" }>;
type StepFinished = Extract<ExecutorEvent, { type: "step-finished" }>;

export class JobRecorder {
  readonly events: ExecutorEvent[] = [];
  private waiters: Array<{ test: (event: ExecutorEvent) => boolean; resolve: () => void }> = [];

  readonly listener = (event: ExecutorEvent): void => {
    this.events.push(event);
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.test(event)) return true;
      waiter.resolve();
      return false;
    });
  };

  /** Resolves when an event matching `test` arrives (or has arrived); rejects after `timeoutMs`. */
  waitFor(test: (event: ExecutorEvent) => boolean, timeoutMs = 20_000): Promise<void> {
    if (this.events.some(test)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  waitForLine(text: string, timeoutMs?: number): Promise<void> {
    return this.waitFor((event) => event.type === "log" && event.text === text, timeoutMs);
  }

  /** Text of the log lines a step printed (stdout and stderr unless one is asked for). */
  lines(step: number, stream?: "stdout" | "stderr"): string[] {
    return this.logs()
      .filter((event) => event.step === step && event.stream !== "system" && (!stream || event.stream === stream))
      .map((event) => event.text);
  }

  logs(): LogEvent[] {
    return this.events.filter((event): event is LogEvent => event.type === "log");
  }

  systemLines(): string[] {
    return this.logs()
      .filter((event) => event.stream === "system")
      .map((event) => event.text);
  }

  stepFinished(step: number): StepFinished {
    const found = this.events.find((event): event is StepFinished => event.type === "step-finished" && event.step === step);
    if (!found) throw new Error(`no step-finished for step ${step}`);
    return found;
  }

  started(step: number): boolean {
    return this.events.some((event) => event.type === "step-started" && event.step === step);
  }

  /**
   * Contract point 2: job-started first; per step `step-started`, its logs, `step-finished` (skipped
   * steps only `step-finished`), in step order; `job-finished` last and exactly once.
   */
  checkOrder(job: JobRun): void {
    const { events } = this;
    expect(events[0]?.type).toBe("job-started");
    expect(events.filter((event) => event.type === "job-started")).toHaveLength(1);
    expect(events.filter((event) => event.type === "job-finished")).toHaveLength(1);
    expect(events[events.length - 1]?.type).toBe("job-finished");
    let position = 0;
    let open: number | null = null;
    for (const event of events.slice(1, -1)) {
      expect(Number.isFinite(event.at)).toBe(true);
      switch (event.type) {
        case "step-started":
          expect(open).toBeNull();
          expect(event.step).toBe(job.steps[position]?.index);
          open = event.step;
          break;
        case "log":
          if (event.step !== null) expect(event.step, `log ${JSON.stringify(event.text)}`).toBe(open);
          break;
        case "step-finished":
          expect(event.step).toBe(job.steps[position]?.index);
          if (open === null) expect(event.status).toBe("skipped");
          else expect(event.status).not.toBe("skipped");
          open = null;
          position += 1;
          break;
        default:
          throw new Error(`unexpected ${event.type} in the middle of the events`);
      }
    }
    expect(open).toBeNull();
    expect(position).toBe(job.steps.length);
  }
}
