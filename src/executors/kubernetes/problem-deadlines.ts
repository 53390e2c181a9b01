// How long a pod may stay stuck before its job ends as an executor error: a fatal problem (an
// invalid image name, ECI refusing the instance) ends it at once; an image that cannot be pulled
// yet, or a pod no node takes yet, gets the configured time — and is forgiven when it clears.
import type { V1Pod } from "@kubernetes/client-node";
import { podProblem, type PodProblem } from "./pod-observation";

export interface ProblemLimits {
  imagePullTimeoutMs: number;
  unschedulableTimeoutMs: number;
}

export class ProblemDeadlines {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly limits: ProblemLimits,
    /** The pod as it is now, read again when a deadline passes. */
    private readonly current: () => V1Pod | undefined,
    private readonly fail: (problem: PodProblem) => void,
  ) {}

  /** Looks at the pod's latest state: arms a deadline for a new problem, drops those that cleared. */
  observe(pod: V1Pod): void {
    const problem = podProblem(pod);
    for (const [code, timer] of this.timers) {
      if (problem?.code !== code) {
        clearTimeout(timer);
        this.timers.delete(code);
      }
    }
    if (!problem) return;
    if (problem.fatal) {
      this.fail(problem);
      return;
    }
    if (this.timers.has(problem.code)) return;
    const limit = problem.code === "unschedulable" ? this.limits.unschedulableTimeoutMs : this.limits.imagePullTimeoutMs;
    const timer = setTimeout(() => {
      const pod = this.current();
      const still = pod ? podProblem(pod) : undefined;
      if (still?.code === problem.code) this.fail({ ...still, message: `${still.message} (for ${Math.round(limit / 1000)}s)` });
    }, limit);
    timer.unref();
    this.timers.set(problem.code, timer);
  }

  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
