import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Executor, ExecutorEvent, JobHandle, JobOutcome, JobResume, JobRun } from "../executors/executor";
import { LocalExecutor } from "../executors/local";
import { parsePipeline, planPipeline, type Plan } from "../pipeline";
import { Dispatcher } from "./dispatcher";
import type { JobContext, JobLog, JobLogs, LeasedJob, SchedulerQueue, Wakeups } from "./ports";

/** An in-memory queue with the semantics the store's queue has: leases, owners, outcomes. */
class MemoryQueue implements SchedulerQueue {
  readonly queued: LeasedJob[] = [];
  readonly leases = new Map<number, string>();
  readonly outcomes = new Map<number, JobOutcome>();
  readonly steps: Array<{ jobId: number; type: string; step: number }> = [];
  readonly requeued: number[] = [];
  maxLeased = 0;
  leaseCalls = 0;
  constructor(private readonly plan: Plan, private readonly workspace: string) {}

  add(key: string, jobId: number): void {
    const spec = this.plan.jobs.find((job) => job.key === key)!;
    this.queued.push({ jobId, pipelineId: 1, repositoryId: 1, attempt: 1, runId: `${jobId}-1`, spec });
  }

  async lease(owner: string, limit: number): Promise<LeasedJob[]> {
    this.leaseCalls++;
    const leased = this.queued.splice(0, limit);
    for (const job of leased) this.leases.set(job.jobId, owner);
    this.maxLeased = Math.max(this.maxLeased, this.leases.size);
    return leased;
  }
  async heartbeat(owner: string, jobIds: number[]): Promise<number[]> {
    return jobIds.filter((id) => this.leases.get(id) !== owner);
  }
  async finish(jobId: number, owner: string, outcome: JobOutcome): Promise<boolean> {
    if (this.leases.get(jobId) !== owner) return false;
    this.leases.delete(jobId);
    this.outcomes.set(jobId, outcome);
    return true;
  }
  async requeue(jobId: number): Promise<void> {
    this.leases.delete(jobId);
    this.requeued.push(jobId);
  }
  readonly released: number[] = [];
  readonly held = new Map<number, LeasedJob>();
  async release(jobId: number, owner: string): Promise<void> {
    if (this.leases.get(jobId) === owner) this.released.push(jobId);
  }
  async takeOver(jobId: number, fromOwner: string, owner: string): Promise<LeasedJob | undefined> {
    const job = this.held.get(jobId);
    if (!job || this.leases.get(jobId) !== fromOwner) return undefined;
    this.leases.set(jobId, owner);
    return job;
  }
  async resumePoint(): Promise<JobResume> {
    return { finishedSteps: [0], logCursors: [{ step: 1, lastAt: 1000, countAtLast: 2 }] };
  }
  async context(): Promise<JobContext> {
    return { plan: this.plan, workspace: { kind: "directory", path: this.workspace }, secrets: { TOKEN: "s3cr3t-token" } };
  }
  async recordStep(job: LeasedJob, event: Extract<ExecutorEvent, { type: "step-started" | "step-finished" }>): Promise<void> {
    this.steps.push({ jobId: job.jobId, type: event.type, step: event.step });
  }
}

class MemoryLogs implements JobLogs {
  readonly lines = new Map<number, string[]>();
  readonly secrets = new Map<number, string[]>();
  open(job: LeasedJob, secretValues: string[]): JobLog {
    this.secrets.set(job.jobId, secretValues);
    const lines: string[] = [];
    this.lines.set(job.jobId, lines);
    return { write: (event) => void lines.push(event.text), close: async () => undefined };
  }
}

class ManualWakeups implements Wakeups {
  handler: ((hint: { cancelJobIds?: number[] }) => void) | undefined;
  async onJobsChanged(handler: (hint: { cancelJobIds?: number[] }) => void) {
    this.handler = handler;
    return async () => {
      this.handler = undefined;
    };
  }
}

const PIPELINE = `jobs:
  quick:
    secrets: [TOKEN]
    steps:
      - run: echo "hello from $GUST_JOB"
      - run: echo second
  slow:
    steps:
      - run: sleep 30
`;

function plan(): Plan {
  const parsed = parsePipeline(PIPELINE, ".gust.yml");
  if (!parsed.ok) throw new Error("bad pipeline");
  const planned = planPipeline(parsed.pipeline, { event: "push", ref: "refs/heads/main", branch: "main", sha: "abc" });
  if (!planned.ok) throw new Error("bad plan");
  return planned.plan;
}

describe("Dispatcher", () => {
  let root: string;
  let executor: LocalExecutor;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), "gust-dispatcher-"));
    executor = new LocalExecutor({ workRoot: path.join(root, "work"), artifactsDir: path.join(root, "a"), cacheDir: path.join(root, "c"), killGraceMs: 300 });
  });
  afterAll(async () => {
    await executor.close();
    await rm(root, { recursive: true, force: true });
  });

  function setup(capacity = 4) {
    const queue = new MemoryQueue(plan(), root);
    const logs = new MemoryLogs();
    const wakeups = new ManualWakeups();
    const errors: unknown[] = [];
    const dispatcher = new Dispatcher({ owner: "replica-a", queue, executor, logs, wakeups, capacity, leaseMs: 10_000, heartbeatMs: 50, onError: (error) => errors.push(error) });
    return { queue, logs, wakeups, dispatcher, errors };
  }

  async function until(check: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(check()).toBe(true);
  }

  it("runs queued jobs when woken, recording steps, logs and the outcome", async () => {
    const { queue, logs, wakeups, dispatcher, errors } = setup();
    await dispatcher.start();
    queue.add("quick", 1);
    wakeups.handler!({});
    await until(() => queue.outcomes.has(1));
    expect(queue.outcomes.get(1)!.status).toBe("success");
    expect(logs.lines.get(1)).toEqual(expect.arrayContaining(["hello from quick", "second"]));
    expect(logs.secrets.get(1)).toEqual(["s3cr3t-token"]);
    expect(queue.steps.filter((s) => s.jobId === 1).map((s) => `${s.type}:${s.step}`)).toEqual(["step-started:0", "step-finished:0", "step-started:1", "step-finished:1"]);
    expect(errors).toEqual([]);
    await dispatcher.drain(1_000);
  });

  it("never runs more than its capacity at once and fills up as jobs finish", async () => {
    const { queue, dispatcher } = setup(2);
    for (let id = 10; id < 16; id++) queue.add("quick", id);
    await dispatcher.start();
    await until(() => queue.outcomes.size === 6);
    expect(queue.maxLeased).toBe(2);
    expect([...queue.outcomes.values()].every((outcome) => outcome.status === "success")).toBe(true);
    await dispatcher.drain(1_000);
  });

  it("cancels a running job on request", async () => {
    const { queue, wakeups, dispatcher } = setup();
    queue.add("slow", 20);
    await dispatcher.start();
    await until(() => dispatcher.runningJobIds.includes(20) && queue.steps.some((s) => s.jobId === 20 && s.type === "step-started"));
    wakeups.handler!({ cancelJobIds: [20] });
    await until(() => queue.outcomes.has(20));
    expect(queue.outcomes.get(20)!.status).toBe("cancelled");
    await dispatcher.drain(1_000);
  });

  it("stops a job whose lease another replica took over, without recording its result", async () => {
    const { queue, dispatcher, errors } = setup();
    queue.add("slow", 30);
    await dispatcher.start();
    await until(() => queue.steps.some((s) => s.jobId === 30 && s.type === "step-started"));
    queue.leases.set(30, "replica-b");
    await until(() => !dispatcher.runningJobIds.includes(30));
    expect(queue.outcomes.has(30)).toBe(false);
    expect(String(errors[0])).toContain("lost the lease of job 30");
    await dispatcher.drain(1_000);
  });

  it("drain lets jobs finish within the grace period and hands the rest back", async () => {
    const { queue, dispatcher } = setup();
    queue.add("slow", 40);
    queue.add("quick", 41);
    await dispatcher.start();
    await until(() => queue.outcomes.has(41) && queue.steps.some((s) => s.jobId === 40 && s.type === "step-started"));
    await dispatcher.drain(200);
    expect(queue.requeued).toEqual([40]);
    expect(queue.outcomes.has(40)).toBe(false);
    const calls = queue.leaseCalls;
    dispatcher.wake();
    expect(queue.leaseCalls).toBe(calls);
  });

  describe("with an executor whose runs outlive the process (pods)", () => {
    /** Runs nothing itself: records what the dispatcher asks, and ends a run when told to. */
    class SurvivingExecutor implements Executor {
      readonly name = "surviving";
      readonly adoptsRuns = true;
      readonly started: JobRun[] = [];
      readonly detached: string[] = [];
      readonly cancelled: string[] = [];
      private readonly ends = new Map<string, (outcome: JobOutcome) => void>();
      async start(job: JobRun): Promise<JobHandle> {
        this.started.push(job);
        const outcome = new Promise<JobOutcome>((resolve) => this.ends.set(job.runId, resolve));
        return {
          runId: job.runId,
          wait: () => outcome,
          cancel: async () => {
            this.cancelled.push(job.runId);
          },
          cleanup: async () => {},
          detach: () => {
            this.detached.push(job.runId);
            this.ends.get(job.runId)!({ status: "error", exitCode: null, failedStep: null, steps: [], durationMs: 0 });
          },
        };
      }
      end(runId: string): void {
        this.ends.get(runId)!({ status: "success", exitCode: null, failedStep: null, steps: [], durationMs: 1 });
      }
      async reap(): Promise<"gone"> {
        return "gone";
      }
      async hasLiveRun(): Promise<boolean> {
        return true;
      }
      async close(): Promise<void> {}
    }

    function survivingSetup() {
      const queue = new MemoryQueue(plan(), root);
      const surviving = new SurvivingExecutor();
      const dispatcher = new Dispatcher({ owner: "replica-a", queue, executor: surviving, logs: new MemoryLogs(), wakeups: new ManualWakeups(), capacity: 4, leaseMs: 10_000, heartbeatMs: 50, onError: () => {} });
      return { queue, surviving, dispatcher };
    }

    it("on shutdown stops nothing: each run is detached and its lease let go for the next replica", async () => {
      const { queue, surviving, dispatcher } = survivingSetup();
      queue.add("slow", 50);
      await dispatcher.start();
      await until(() => surviving.started.length === 1);
      await dispatcher.drain(60_000);
      expect(surviving.detached).toEqual(["50-1"]);
      expect(surviving.cancelled).toEqual([]);
      expect(queue.released).toEqual([50]);
      expect(queue.requeued).toEqual([]);
      expect(queue.outcomes.has(50)).toBe(false);
    });

    it("adopts a run taken over from a dead replica: same run id, with what is already recorded", async () => {
      const { queue, surviving, dispatcher } = survivingSetup();
      const spec = plan().jobs.find((job) => job.key === "slow")!;
      const job: LeasedJob = { jobId: 60, pipelineId: 1, repositoryId: 1, attempt: 1, runId: "60-1", spec };
      queue.held.set(60, job);
      queue.leases.set(60, "dead-replica");
      const taken = await queue.takeOver(60, "dead-replica", "replica-a");
      dispatcher.adopt(taken!);
      await until(() => surviving.started.length === 1);
      expect(surviving.started[0]).toMatchObject({ runId: "60-1", resume: { finishedSteps: [0], logCursors: [{ step: 1, lastAt: 1000, countAtLast: 2 }] } });
      surviving.end("60-1");
      await until(() => queue.outcomes.has(60));
      expect(queue.outcomes.get(60)!.status).toBe("success");
      await dispatcher.drain(1_000);
    });
  });
});
