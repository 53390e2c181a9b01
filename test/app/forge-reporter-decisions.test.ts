// The reporter's pure decisions: when to retry a failed send and when to give up, and what a forge
// is told for an outbox entry (state mapping, times, description, failing step, summary).
import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY, retryDecision } from "../../src/app/forge-reporter";
import { buildStatusUpdate, failingStep, reportState, type StatusEntry, type StatusSubject } from "../../src/app/status-update";
import { ForgeError, InputError } from "../../src/errors";

const NOW = Date.parse("2025-06-01T12:00:00Z");
const at = (seconds: number) => new Date(NOW + seconds * 1000);

describe("retryDecision", () => {
  const unavailable = new ForgeError("GitHub answered 502", { retryable: true, status: 502 });

  it("backs off exponentially with jitter, up to the maximum delay", () => {
    const delays = [0, 1, 2, 3, 12].map((attempts) => retryDecision(unavailable, { attempts, failingSince: null }, NOW, DEFAULT_RETRY_POLICY, () => 1));
    expect(delays).toEqual([
      { retry: true, delayMs: 1_000 },
      { retry: true, delayMs: 2_000 },
      { retry: true, delayMs: 4_000 },
      { retry: true, delayMs: 8_000 },
      { retry: true, delayMs: DEFAULT_RETRY_POLICY.maxDelayMs },
    ]);
    // The jitter takes at most half away.
    expect(retryDecision(unavailable, { attempts: 3, failingSince: null }, NOW, DEFAULT_RETRY_POLICY, () => 0)).toEqual({ retry: true, delayMs: 4_000 });
  });

  it("waits at least as long as the forge asked", () => {
    const limited = new ForgeError("rate limited", { retryable: true, status: 429, retryAfterMs: 90_000 });
    expect(retryDecision(limited, { attempts: 0, failingSince: null }, NOW)).toEqual({ retry: true, delayMs: 90_000 });
  });

  it("gives up on retryable failures after a day, on others after two minutes", () => {
    const refused = new ForgeError("Resource not accessible by integration", { retryable: false, status: 403 });
    expect(retryDecision(refused, { attempts: 1, failingSince: at(-60) }, NOW)).toMatchObject({ retry: true });
    expect(retryDecision(refused, { attempts: 3, failingSince: at(-121) }, NOW)).toEqual({ retry: false });
    expect(retryDecision(new InputError("no credentials"), { attempts: 3, failingSince: at(-121) }, NOW)).toEqual({ retry: false });
    expect(retryDecision(unavailable, { attempts: 20, failingSince: at(-23 * 3600) }, NOW)).toMatchObject({ retry: true });
    expect(retryDecision(unavailable, { attempts: 20, failingSince: at(-24 * 3600) }, NOW)).toEqual({ retry: false });
  });
});

describe("status updates", () => {
  const pipeline = {
    id: 7,
    name: "ci",
    file: ".gust.yml",
    ref: "refs/heads/main",
    branch: "main",
    tag: null,
    sha: "abc123",
    error: null,
    startedAt: at(-100),
    finishedAt: null,
    reportId: null,
    reportAttempt: null,
  };
  const job = {
    id: 42,
    key: "test-node-20",
    name: "test (node: 20)",
    needs: ["build"],
    attempt: 1,
    failedStep: null,
    detail: null,
    startedAt: at(-60),
    finishedAt: null,
    reportId: "9001",
    reportAttempt: 1,
  };
  const entry = (overrides: Partial<StatusEntry>): StatusEntry => ({ jobId: 42, attempt: 1, jobAttempt: 1, state: "running", createdAt: at(0), ...overrides });
  const subject = (overrides: Partial<StatusSubject> = {}): StatusSubject => ({ pipeline, job, steps: [], jobs: [], ...overrides });
  const build = (e: StatusEntry, s: StatusSubject = subject(), logTail?: string[]) => buildStatusUpdate(e, s, { publicUrl: "https://gust.example.com", ...(logTail ? { logTail } : {}) });

  it("maps job and pipeline statuses to what forges show", () => {
    expect(["waiting", "queued", "pending", "running", "success", "failure", "cancelled", "skipped", "timed_out", "error"].map(reportState)).toEqual([
      "queued",
      "queued",
      "queued",
      "running",
      "success",
      "failure",
      "cancelled",
      "skipped",
      "timed_out",
      "failure",
    ]);
  });

  it("describes a waiting job by its needs, without times, and reuses the report id of its check run only", () => {
    const waiting = build(entry({ state: "waiting", jobAttempt: 0 }), subject({ job: { ...job, attempt: 0, startedAt: null } }));
    expect(waiting).toEqual({
      kind: "job",
      update: {
        sha: "abc123",
        ref: "refs/heads/main",
        branch: "main",
        pipelineName: "ci",
        jobKey: "test-node-20",
        jobName: "test (node: 20)",
        state: "queued",
        attempt: 1,
        detailsUrl: "https://gust.example.com/jobs/42",
        externalId: "42",
        description: "waiting for build",
        reportId: "9001",
      },
    });
    expect(build(entry({ attempt: 2, state: "queued" })).update.reportId).toBeUndefined();
  });

  it("shows the failing step of the attempt with its log tail, times and duration", () => {
    const steps = [
      { index: 0, name: "install", status: "success", exitCode: 0, reason: null, startedAt: at(-50), finishedAt: at(-40) },
      { index: 1, name: "npm test", status: "failure", exitCode: 1, reason: null, startedAt: at(-40), finishedAt: at(-10) },
    ];
    const failed = subject({ job: { ...job, failedStep: 1, finishedAt: at(-5) }, steps });
    const e = entry({ state: "failure" });
    expect(failingStep(e, failed)).toEqual({ stepName: "npm test", stepIndex: 1, exitCode: 1, status: "failure" });
    const { update } = build(e, failed, ["expected 2 to equal 3"]);
    expect(update).toMatchObject({
      state: "failure",
      startedAt: at(-50).toISOString(),
      completedAt: at(-5).toISOString(),
      durationMs: 45_000,
      failure: { stepName: "npm test", stepIndex: 1, exitCode: 1, logTail: ["expected 2 to equal 3"] },
    });
    expect(update.description).toBeUndefined();
  });

  it("closes a requeued attempt as failed when a step failed, as cancelled when its runner was lost", () => {
    const steps = [{ index: 0, name: "e2e", status: "timed_out", exitCode: null, reason: "timed out after 5m", startedAt: at(-400), finishedAt: at(-100) }];
    const retried = build(entry({ state: "requeued" }), subject({ steps }));
    expect(retried.update).toMatchObject({ state: "timed_out", completedAt: at(-100).toISOString(), description: "Timed out at step `e2e` (timed out after 5m); retried" });
    const lost = build(entry({ state: "requeued" }), subject({ steps: [{ ...steps[0]!, status: "running", finishedAt: null }] }));
    expect(lost.update).toMatchObject({ state: "cancelled", completedAt: at(0).toISOString(), description: "its runner was lost; retried" });
    expect("failure" in lost.update).toBe(false);
  });

  it("summarises a pipeline as a table of its jobs, and a broken pipeline file by its whole error", () => {
    const jobs = [
      { id: 1, name: "build", status: "success", detail: null, startedAt: at(-90), finishedAt: at(-30) },
      { id: 2, name: "test | e2e", status: "failure", detail: "step 'npm test' exited with 1", startedAt: at(-30), finishedAt: at(-10) },
      { id: 3, name: "deploy", status: "skipped", detail: "needs 'test' failed", startedAt: null, finishedAt: at(-10) },
    ];
    const finished = build(entry({ jobId: null, state: "failure" }), subject({ job: undefined, jobs, pipeline: { ...pipeline, finishedAt: at(-10) } }));
    expect(finished.kind).toBe("pipeline");
    expect(finished.update).toMatchObject({ state: "failure", description: "1 succeeded, 1 failed, 1 skipped", detailsUrl: "https://gust.example.com/pipelines/7", durationMs: 90_000 });
    expect((finished.update as { summary: string }).summary).toBe(
      [
        "| Job | Result | Duration |",
        "| --- | --- | --- |",
        "| [build](https://gust.example.com/jobs/1) | Succeeded | 1m |",
        "| [test \\| e2e](https://gust.example.com/jobs/2) | Failed: step 'npm test' exited with 1 | 20.0s |",
        "| [deploy](https://gust.example.com/jobs/3) | Skipped: needs 'test' failed |  |",
      ].join("\n"),
    );
    expect(build(entry({ jobId: null, state: "running" }), subject({ job: undefined, jobs })).update.description).toBe("3 of 3 jobs finished");

    const error = ".gust.yml:1:1: error: unknown key 'jbos'\n  1 | jbos:\n    | ^";
    const broken = build(entry({ jobId: null, state: "error" }), subject({ job: undefined, pipeline: { ...pipeline, error, startedAt: null, finishedAt: at(0) } }));
    expect(broken.update).toMatchObject({ state: "failure", description: ".gust.yml:1:1: error: unknown key 'jbos'" });
    expect((broken.update as { summary: string }).summary).toBe(`The pipeline file \`.gust.yml\` could not be run:\n\n\`\`\`text\n${error}\n\`\`\``);
  });
});
