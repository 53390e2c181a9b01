// The executor contract (src/executors/executor.ts, points 1–6) as a vitest suite any Executor can
// run: describeExecutorContract("local", async () => harness). Scripts are POSIX sh only, so a
// Kubernetes executor runs the same suite. No timing assertions beyond generous bounds.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Executor, JobHandle, JobOutcome, JobRun } from "../../src/executors/executor";
import type { JobPartial } from "./job-defaults";
import { JobRecorder } from "./job-recorder";

export type { JobPartial, StepPartial } from "./job-defaults";

export interface ContractHarness {
  executor: Executor;
  makeJob(partial: JobPartial): JobRun;
  teardown(): Promise<void>;
  /** Optional: a file the job wrote into its workspace, read before cleanup (undefined if absent). */
  readWorkspaceFile?(job: JobRun, relativePath: string): Promise<string | undefined>;
  /** Optional: whether a process with this pid (as printed by a step) is still running. */
  isProcessRunning?(pid: number): Promise<boolean>;
  /**
   * Another executor over the same resources (workspaces, namespace), as a restarted or other
   * replica would have: it must be able to reap runs the first one started.
   */
  otherExecutor(): Promise<Executor>;
}

interface Run {
  job: JobRun;
  handle: JobHandle;
  recorder: JobRecorder;
}

/** Bound for "promptly": generous for a loaded 2-core machine, far below the 30 s sleeps used. */
const PROMPT_MS = 10_000;

export function describeExecutorContract(name: string, setup: () => Promise<ContractHarness>): void {
  describe(`executor contract: ${name}`, () => {
    let harness: ContractHarness;
    const handles: JobHandle[] = [];

    beforeAll(async () => {
      harness = await setup();
    });
    afterEach(async () => {
      await Promise.all(handles.splice(0).map((handle) => handle.cleanup()));
    });
    afterAll(async () => {
      await harness?.teardown();
    });

    async function start(partial: JobPartial): Promise<Run> {
      const job = harness.makeJob(partial);
      const recorder = new JobRecorder();
      const handle = await harness.executor.start(job, recorder.listener);
      handles.push(handle);
      return { job, handle, recorder };
    }

    /** Runs a job to its end and checks the event order every time. */
    async function run(partial: JobPartial): Promise<Run & { outcome: JobOutcome }> {
      const started = await start(partial);
      const outcome = await started.handle.wait();
      started.recorder.checkOrder(started.job);
      return { ...started, outcome };
    }

    async function expectGone(job: JobRun, pidFile: string): Promise<void> {
      if (!harness.readWorkspaceFile || !harness.isProcessRunning) return;
      const pid = Number((await harness.readWorkspaceFile(job, pidFile))?.trim());
      expect(pid).toBeGreaterThan(0);
      expect(await harness.isProcessRunning(pid)).toBe(false);
    }

    async function timed<T>(promise: Promise<T>): Promise<{ value: T; ms: number }> {
      const started = Date.now();
      const value = await promise;
      return { value, ms: Date.now() - started };
    }

    describe("1. start", () => {
      it("resolves with a handle for the job's runId", async () => {
        const { job, handle } = await start({ steps: [{ script: "true" }] });
        expect(handle.runId).toBe(job.runId);
        expect((await handle.wait()).status).toBe("success");
      });

      it("runs a runId started twice only once", async () => {
        const job = harness.makeJob({ steps: [{ script: "echo ran >> runs.txt; echo ran; sleep 0.3" }] });
        const first = new JobRecorder();
        const second = new JobRecorder();
        const [a, b] = await Promise.all([
          harness.executor.start(job, first.listener),
          harness.executor.start(job, second.listener),
        ]);
        handles.push(a, b);
        const c = await harness.executor.start(job, second.listener); // while it runs
        handles.push(c);
        expect(a.runId).toBe(job.runId);
        expect(b.runId).toBe(job.runId);
        const outcomes = await Promise.all([a.wait(), b.wait(), c.wait()]);
        for (const outcome of outcomes) expect(outcome.status).toBe("success");
        const all = [...first.events, ...second.events];
        expect(all.filter((event) => event.type === "step-started")).toHaveLength(1);
        expect(all.filter((event) => event.type === "log" && event.text === "ran")).toHaveLength(1);
        expect(all.filter((event) => event.type === "job-finished")).toHaveLength(1);
        if (harness.readWorkspaceFile) expect(await harness.readWorkspaceFile(job, "runs.txt")).toBe("ran\n");
      });
    });

    describe("2. events", () => {
      it("come in order: job-started, each step's start, logs and finish, job-finished once", async () => {
        const { recorder, outcome } = await run({
          steps: [{ script: "echo one" }, { script: "echo two; echo three" }, { script: "true" }],
        });
        expect(outcome.status).toBe("success");
        expect(recorder.lines(0)).toEqual(["one"]);
        expect(recorder.lines(1)).toEqual(["two", "three"]);
        expect(recorder.lines(2)).toEqual([]);
        const types = recorder.events.filter((event) => event.type !== "log").map((event) => event.type);
        expect(types).toEqual([
          "job-started",
          ...["step-started", "step-finished"],
          ...["step-started", "step-finished"],
          ...["step-started", "step-finished"],
          "job-finished",
        ]);
        const finished = recorder.events[recorder.events.length - 1];
        expect(finished?.type === "job-finished" && finished.outcome).toEqual(outcome);
      });

      it("splits output into whole lines: \\n, \\r\\n, empty lines and a last line without newline", async () => {
        const { recorder } = await run({ steps: [{ script: "printf 'one\\ntwo\\r\\n\\nthree'" }] });
        expect(recorder.lines(0)).toEqual(["one", "two", "", "three"]);
      });

      it("joins a line written in several pieces", async () => {
        const { recorder } = await run({ steps: [{ script: "printf 'par'; sleep 0.3; printf 'tial\\nnext\\n'" }] });
        expect(recorder.lines(0)).toEqual(["partial", "next"]);
      });

      it("keeps stdout and stderr apart, each in order", async () => {
        const { recorder } = await run({
          steps: [{ script: "i=0; while [ $i -lt 200 ]; do echo out-$i; echo err-$i >&2; i=$((i+1)); done" }],
        });
        const numbers = Array.from({ length: 200 }, (_, i) => i);
        expect(recorder.lines(0, "stdout")).toEqual(numbers.map((i) => `out-${i}`));
        expect(recorder.lines(0, "stderr")).toEqual(numbers.map((i) => `err-${i}`));
      });

      it("delivers many lines in order, each with the time it was read", async () => {
        const before = Date.now();
        const { recorder } = await run({
          steps: [{ script: "i=0; while [ $i -lt 5000 ]; do echo line-$i; i=$((i+1)); done" }],
        });
        const after = Date.now();
        expect(recorder.lines(0)).toEqual(Array.from({ length: 5000 }, (_, i) => `line-${i}`));
        for (const event of recorder.logs()) {
          expect(event.at).toBeGreaterThanOrEqual(before - 1000);
          expect(event.at).toBeLessThanOrEqual(after + 1000);
        }
      });

      it("emits nothing after job-finished", async () => {
        const { recorder, handle } = await run({ steps: [{ script: "echo done" }] });
        const count = recorder.events.length;
        await handle.cancel();
        await handle.cleanup();
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(recorder.events).toHaveLength(count);
      });
    });

    describe("3. steps", () => {
      it("run with sh -e: a failing command fails the step", async () => {
        const { recorder, outcome } = await run({ steps: [{ script: "echo before; false; echo after" }] });
        expect(recorder.lines(0)).toEqual(["before"]);
        expect(outcome).toMatchObject({ status: "failure", exitCode: 1, failedStep: 0 });
      });

      it("report the exit code of a failing step, in the event and the outcome", async () => {
        const { recorder, outcome } = await run({ steps: [{ script: "true" }, { script: "exit 3" }] });
        expect(recorder.stepFinished(1)).toMatchObject({ status: "failure", exitCode: 3 });
        expect(outcome).toMatchObject({ status: "failure", exitCode: 3, failedStep: 1 });
        expect(outcome.steps.map((step) => [step.status, step.exitCode])).toEqual([
          ["success", 0],
          ["failure", 3],
        ]);
      });

      it("after a failure, skip the following steps (no step-started, a reason)", async () => {
        const { recorder, outcome } = await run({
          steps: [{ script: "exit 1" }, { script: "echo never" }, { script: "echo never" }],
        });
        for (const step of [1, 2]) {
          expect(recorder.started(step)).toBe(false);
          expect(recorder.stepFinished(step)).toMatchObject({ status: "skipped", exitCode: null });
          expect(recorder.stepFinished(step).reason).toBeTruthy();
          expect(recorder.lines(step)).toEqual([]);
        }
        expect(outcome.steps.map((step) => step.status)).toEqual(["failure", "skipped", "skipped"]);
        expect(outcome.failedStep).toBe(0);
      });

      it("run a step with when.onFailure after a failure, and only then", async () => {
        const onFailureOnly = { onSuccess: false, onFailure: true };
        const always = { onSuccess: true, onFailure: true };
        const failing = await run({
          steps: [
            { script: "exit 2" },
            { script: "echo cleanup", when: onFailureOnly },
            { script: "echo always", when: always },
            { script: "echo never" },
          ],
        });
        expect(failing.outcome.steps.map((step) => step.status)).toEqual(["failure", "success", "success", "skipped"]);
        expect(failing.recorder.lines(1)).toEqual(["cleanup"]);
        expect(failing.recorder.lines(2)).toEqual(["always"]);
        expect(failing.outcome).toMatchObject({ status: "failure", exitCode: 2, failedStep: 0 });

        const passing = await run({
          steps: [{ script: "true" }, { script: "echo cleanup", when: onFailureOnly }, { script: "echo always", when: always }],
        });
        expect(passing.outcome.steps.map((step) => step.status)).toEqual(["success", "skipped", "success"]);
        expect(passing.outcome.status).toBe("success");
      });

      it("keep the job failed when a when.onFailure step succeeds, and report the first failure", async () => {
        const { outcome } = await run({
          steps: [{ script: "exit 4" }, { script: "exit 5", when: { onSuccess: false, onFailure: true } }],
        });
        expect(outcome).toMatchObject({ status: "failure", exitCode: 4, failedStep: 0 });
      });

      it("with continueOnError do not fail the job", async () => {
        const { recorder, outcome } = await run({
          steps: [{ script: "exit 7", continueOnError: true }, { script: "echo next" }],
        });
        expect(recorder.stepFinished(0)).toMatchObject({ status: "failure", exitCode: 7 });
        expect(recorder.lines(1)).toEqual(["next"]);
        expect(outcome).toMatchObject({ status: "success", exitCode: null, failedStep: null });
      });

      it("time out: the step is killed, timed-out, the job too, and when.onFailure steps still run", async () => {
        const { value, ms } = await timed(
          run({
            steps: [
              { script: "sleep 30 & echo $! > sleep.pid; wait", timeoutMs: 300 },
              { script: "echo never" },
              { script: "echo cleanup", when: { onSuccess: false, onFailure: true } },
            ],
          }),
        );
        expect(ms).toBeLessThan(PROMPT_MS);
        expect(value.recorder.stepFinished(0)).toMatchObject({ status: "timed-out", exitCode: null });
        expect(value.recorder.stepFinished(0).reason).toBeTruthy();
        expect(value.outcome).toMatchObject({ status: "timed-out", failedStep: 0 });
        expect(value.outcome.steps.map((step) => step.status)).toEqual(["timed-out", "skipped", "success"]);
        await expectGone(value.job, "sleep.pid");
      });

      it("time out even when the script ignores SIGTERM", async () => {
        const { value, ms } = await timed(run({ steps: [{ script: "trap '' TERM; sleep 30", timeoutMs: 300 }] }));
        expect(ms).toBeLessThan(PROMPT_MS + 5_000);
        expect(value.outcome.status).toBe("timed-out");
      });

      it("that time out with continueOnError do not fail the job", async () => {
        const { outcome } = await run({
          steps: [{ script: "sleep 30", timeoutMs: 300, continueOnError: true }, { script: "echo next" }],
        });
        expect(outcome.steps.map((step) => step.status)).toEqual(["timed-out", "success"]);
        expect(outcome.status).toBe("success");
      });

      it("stop at the job timeout: running step timed-out, the rest skipped", async () => {
        const { value, ms } = await timed(
          run({
            timeoutMs: 800,
            steps: [
              { script: "true" },
              { script: "sleep 30" },
              { script: "echo never" },
              { script: "echo never", when: { onSuccess: true, onFailure: true } },
            ],
          }),
        );
        expect(ms).toBeLessThan(PROMPT_MS);
        expect(value.outcome.status).toBe("timed-out");
        expect(value.outcome.steps.map((step) => step.status)).toEqual(["success", "timed-out", "skipped", "skipped"]);
        expect(value.recorder.lines(2)).toEqual([]);
      });

      it("run in the job workspace, which the steps share, each in a fresh shell", async () => {
        const { recorder, outcome } = await run({
          steps: [
            { script: 'test "$(pwd -P)" = "$(cd "$GUST_WORKSPACE" && pwd -P)"; echo shared > file.txt; export LEAK=1' },
            { script: 'cat file.txt; echo "${LEAK:-unset}"' },
          ],
        });
        expect(outcome.status).toBe("success");
        expect(recorder.lines(1)).toEqual(["shared", "unset"]);
      });

      it("get no stdin", async () => {
        const { outcome, recorder } = await run({ steps: [{ script: "cat; echo read-all", timeoutMs: 20_000 }] });
        expect(outcome.status).toBe("success");
        expect(recorder.lines(0)).toEqual(["read-all"]);
      });

      it("run in their working directory, which must stay inside the workspace", async () => {
        const { recorder, outcome } = await run({
          steps: [
            { script: "mkdir -p sub/dir" },
            { script: "pwd", workingDirectory: "sub/dir" },
            { script: "pwd", workingDirectory: "sub/../sub" },
          ],
        });
        expect(outcome.status).toBe("success");
        expect(recorder.lines(1)[0]).toMatch(/\/sub\/dir$/);
        expect(recorder.lines(2)[0]).toMatch(/\/sub$/);

        const escaping = await run({ steps: [{ script: "pwd", workingDirectory: "../.." }, { script: "echo never" }] });
        expect(escaping.outcome).toMatchObject({ status: "failure", failedStep: 0 });
        const finished = escaping.recorder.stepFinished(0);
        const explained = [finished.reason ?? "", ...escaping.recorder.logs().map((event) => event.text)];
        expect(explained.some((text) => /working directory/i.test(text))).toBe(true);
        expect(escaping.recorder.stepFinished(1).status).toBe("skipped");
      });
    });

    describe("3. environment", () => {
      it("has CI and the GUST_* variables", async () => {
        const names = [
          "CI",
          "GUST_PIPELINE",
          "GUST_PIPELINE_RUN_ID",
          "GUST_JOB",
          "GUST_JOB_NAME",
          "GUST_RUN_ID",
          "GUST_ATTEMPT",
          "GUST_COMMIT",
          "GUST_REF",
          "GUST_BRANCH",
          "GUST_TAG",
          "GUST_STEP",
          "GUST_EXECUTOR",
        ];
        const { job, recorder, outcome } = await run({
          pipelineName: "web app",
          jobKey: "test-node-20",
          jobName: "test (node: 20)",
          attempt: 2,
          commit: { sha: "feedfacefeedfacefeedfacefeedfacefeedface", ref: "refs/tags/v1.2.3", tag: "v1.2.3" },
          steps: [{ name: "print env", script: names.map((n) => `echo "${n}=$${n}"`).join("; ") }],
        });
        expect(outcome.status).toBe("success");
        expect(recorder.lines(0)).toEqual([
          "CI=true",
          "GUST_PIPELINE=web app",
          `GUST_PIPELINE_RUN_ID=${job.pipelineRunId}`,
          "GUST_JOB=test-node-20",
          "GUST_JOB_NAME=test (node: 20)",
          `GUST_RUN_ID=${job.runId}`,
          "GUST_ATTEMPT=2",
          "GUST_COMMIT=feedfacefeedfacefeedfacefeedfacefeedface",
          "GUST_REF=refs/tags/v1.2.3",
          "GUST_BRANCH=",
          "GUST_TAG=v1.2.3",
          "GUST_STEP=print env",
          `GUST_EXECUTOR=${harness.executor.name}`,
        ]);
      });

      it("layers job env < step env < secrets, per step", async () => {
        const { recorder } = await run({
          env: { A: "job", B: "job", C: "job" },
          secrets: { C: "secret" },
          steps: [
            { script: 'echo "$A $B $C ${ONLY:-unset}"', env: { B: "step", C: "step", ONLY: "here" } },
            { script: 'echo "$A $B $C ${ONLY:-unset}"' },
          ],
        });
        expect(recorder.lines(0)).toEqual(["job step secret here"]);
        expect(recorder.lines(1)).toEqual(["job job secret unset"]);
      });

      it("passes values verbatim (no shell expansion of env values)", async () => {
        const { recorder } = await run({
          env: { TRICKY: "$(echo nope) `echo nope` $HOME \"quoted\" 'single'" },
          steps: [{ script: 'printf "%s\\n" "$TRICKY"' }],
        });
        expect(recorder.lines(0)).toEqual(["$(echo nope) `echo nope` $HOME \"quoted\" 'single'"]);
      });
    });

    describe("4. wait", () => {
      it("resolves with the outcome for failures too, and the same outcome every time", async () => {
        const { handle, outcome } = await run({ steps: [{ script: "exit 9" }] });
        expect(outcome.status).toBe("failure");
        expect(await handle.wait()).toEqual(outcome);
        expect(await handle.wait()).toEqual(outcome);
        expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
        expect(outcome.steps).toHaveLength(1);
      });
    });

    describe("5. cancel", () => {
      it("stops the running step and what it started, skips the rest, promptly", async () => {
        const { job, handle, recorder } = await start({
          steps: [
            { script: "sleep 30 & echo $! > sleep.pid; echo ready; wait" },
            { script: "echo never" },
            { script: "echo never", when: { onSuccess: true, onFailure: true } },
          ],
        });
        await recorder.waitForLine("ready");
        const { value: outcome, ms } = await timed(handle.cancel("test").then(() => handle.wait()));
        expect(ms).toBeLessThan(PROMPT_MS);
        expect(outcome.status).toBe("cancelled");
        expect(outcome.steps.map((step) => step.status)).toEqual(["cancelled", "skipped", "skipped"]);
        recorder.checkOrder(job);
        expect(recorder.lines(1)).toEqual([]);
        await expectGone(job, "sleep.pid");
      });

      it("makes wait() resolve cancelled when called right after start", async () => {
        const { job, handle, recorder } = await start({ steps: [{ script: "sleep 30" }, { script: "echo never" }] });
        await handle.cancel();
        const outcome = await handle.wait();
        expect(outcome.status).toBe("cancelled");
        expect(outcome.steps.every((step) => step.status === "skipped" || step.status === "cancelled")).toBe(true);
        recorder.checkOrder(job);
      });

      it("is safe to call many times, concurrently and after the end", async () => {
        const { job, handle, recorder } = await start({ steps: [{ script: "echo ready; sleep 30" }] });
        await recorder.waitForLine("ready");
        await Promise.all([handle.cancel(), handle.cancel("again"), handle.cancel()]);
        await handle.cancel();
        expect((await handle.wait()).status).toBe("cancelled");
        recorder.checkOrder(job);
      });

      it("after the job finished changes nothing", async () => {
        const { handle, recorder, outcome } = await run({ steps: [{ script: "echo ok" }] });
        const count = recorder.events.length;
        await handle.cancel();
        expect(await handle.wait()).toEqual(outcome);
        expect(outcome.status).toBe("success");
        expect(recorder.events).toHaveLength(count);
      });
    });

    describe("6. cleanup", () => {
      it("is safe to call repeatedly after the job finished", async () => {
        const { handle, outcome } = await run({ steps: [{ script: "echo ok" }] });
        await handle.cleanup();
        await handle.cleanup();
        await Promise.all([handle.cleanup(), handle.cancel()]);
        expect(await handle.wait()).toEqual(outcome);
      });

      it("cancels a running job first", async () => {
        const { job, handle, recorder } = await start({
          steps: [{ script: "sleep 30 & echo $! > sleep.pid; echo ready; wait" }],
        });
        await recorder.waitForLine("ready");
        const pid = harness.readWorkspaceFile ? await harness.readWorkspaceFile(job, "sleep.pid") : undefined;
        const { ms } = await timed(Promise.all([handle.cleanup(), handle.cleanup()]));
        expect(ms).toBeLessThan(PROMPT_MS);
        expect((await handle.wait()).status).toBe("cancelled");
        recorder.checkOrder(job);
        if (pid && harness.isProcessRunning) expect(await harness.isProcessRunning(Number(pid))).toBe(false);
      });

      it("can be called before the job did anything", async () => {
        const { job, handle, recorder } = await start({ steps: [{ script: "echo hi" }] });
        await handle.cleanup();
        expect(["cancelled", "success"]).toContain((await handle.wait()).status);
        recorder.checkOrder(job);
      });
    });

    describe("7. reap", () => {
      it("stops a run another executor instance started, with what it started, and says so once", async () => {
        const { job, handle, recorder } = await start({
          steps: [{ script: "sleep 30 & echo $! > sleep.pid; echo ready; wait" }, { script: "echo never" }],
        });
        await recorder.waitForLine("ready");
        const sleepPid = Number((await harness.readWorkspaceFile?.(job, "sleep.pid"))?.trim());
        const other = await harness.otherExecutor();
        try {
          const { value: reaped, ms } = await timed(other.reap(job.runId));
          expect(reaped).toBe("stopped");
          expect(ms).toBeLessThan(PROMPT_MS);
          expect(await other.reap(job.runId)).toBe("gone");
        } finally {
          await other.close();
        }
        // The first instance sees its step end (it was killed), never a success.
        expect((await handle.wait()).status).not.toBe("success");
        expect(recorder.lines(1)).toEqual([]);
        if (harness.isProcessRunning && sleepPid > 0) expect(await harness.isProcessRunning(sleepPid)).toBe(false);
      });

      it("stops and releases a run of its own instance", async () => {
        const { handle, recorder, job } = await start({ steps: [{ script: "echo ready; sleep 30" }] });
        await recorder.waitForLine("ready");
        expect(await harness.executor.reap(job.runId)).toBe("stopped");
        expect((await handle.wait()).status).toBe("cancelled");
        expect(await harness.executor.reap(job.runId)).toBe("gone");
      });

      it("answers gone for a run it never heard of", async () => {
        expect(await harness.executor.reap("no-such-run-1")).toBe("gone");
      });
    });
  });
}
