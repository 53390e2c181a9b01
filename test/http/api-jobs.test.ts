// /api/jobs: a job with the steps of each attempt, and its log (pages, and the live SSE stream
// mounted from src/logs/sse.ts) over real stores: resumable with Last-Event-ID, ended once the job
// finished and the hub was told.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogLine } from "../../src/logs/log-store";
import { StepsStore, type LeasedJob } from "../../src/store";
import { useTestDatabase } from "../helpers/database";
import { openSse, type SseConnection } from "../logs/sse-client";
import { createRepository, planOf } from "../store/fixtures";
import { createApiHarness, errorOf, json, type ApiHarness } from "./api-harness";

const OWNER = "replica-a";

describe("API: jobs and logs", () => {
  const test = useTestDatabase("pglite");
  let api: ApiHarness;
  let base: string;
  beforeAll(async () => {
    api = await createApiHarness(test.database);
    base = await api.listen();
  });
  afterAll(() => api.close());

  /** A pipeline of one job, leased (attempt 1). */
  async function runningJob(): Promise<LeasedJob> {
    const repository = await createRepository(test.database);
    await api.pipelines.createPipeline({ repositoryId: repository.id, plan: planOf(["jobs:", "  build: {steps: [{name: compile, run: make}, {name: check, run: make check}]}"]) });
    const [job] = await api.queue.leaseJobs({ owner: OWNER, limit: 1, leaseMs: 60_000 });
    return job!;
  }

  const logLine = (text: string, overrides: Partial<LogLine> = {}): LogLine => ({ at: 1_700_000_000_000, attempt: 1, step: 0, stream: "stdout", text, ...overrides });
  async function write(jobId: number, from: number, to: number): Promise<void> {
    const lines: LogLine[] = [];
    for (let i = from; i <= to; i++) lines.push(logLine(`line ${i}`, { step: i % 2, stream: i % 5 === 0 ? "stderr" : "stdout" }));
    await api.hub.append(jobId, lines);
  }
  /** What a dispatcher does at a job's end: the final status first, then the hub's finish. */
  async function finish(jobId: number): Promise<void> {
    expect(await api.queue.finishJob(jobId, OWNER, { status: "success", exitCode: 0 })).toMatchObject({ accepted: true });
    await api.hub.finish(jobId);
  }
  const numbers = (connection: SseConnection) => connection.events.filter((event) => event.event === "line").map((event) => Number(event.id));
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it("shows a job with the steps of every attempt", async () => {
    const job = await runningJob();
    const steps = new StepsStore(test.database);
    await steps.recordStep({ jobId: job.id, attempt: 1, index: 0, name: "compile", status: "success", exitCode: 0, startedAt: new Date("2030-01-01T00:00:00Z"), finishedAt: new Date("2030-01-01T00:00:05Z") });
    await steps.recordStep({ jobId: job.id, attempt: 1, index: 1, name: "check", status: "running", startedAt: new Date("2030-01-01T00:00:05Z") });
    const response = await api.call("GET", `/api/jobs/${job.id}`, { token: api.token.read });
    expect(response.status).toBe(200);
    const text = await response.clone().text();
    for (const internal of ["spec", "leaseOwner", OWNER, "runId", "reason", "logBytes", "make check"]) expect(text, internal).not.toContain(internal);
    expect(await response.json()).toEqual({
      id: job.id,
      pipelineId: job.pipelineId,
      key: "build",
      name: "build",
      needs: [],
      status: "running",
      attempt: 1,
      exitCode: null,
      failedStep: null,
      detail: null,
      queuedAt: expect.any(String),
      startedAt: expect.any(String),
      finishedAt: null,
      steps: [
        { index: 0, name: "compile", attempt: 1, status: "success", exitCode: 0, startedAt: "2030-01-01T00:00:00.000Z", finishedAt: "2030-01-01T00:00:05.000Z" },
        { index: 1, name: "check", attempt: 1, status: "running", exitCode: null, startedAt: "2030-01-01T00:00:05.000Z", finishedAt: null },
      ],
    });
    expect((await api.call("GET", "/api/jobs/987654")).status).toBe(404);
  });

  it("pages through a job's log, and says when it finished", async () => {
    const job = await runningJob();
    await write(job.id, 1, 25);
    const first = (await json(await api.call("GET", `/api/jobs/${job.id}/logs?limit=10`, { token: api.token.read }))) as { lines: Array<Record<string, unknown>>; next: number; finished: boolean; more: boolean; jobId: number };
    expect(first).toMatchObject({ jobId: job.id, next: 10, finished: false, more: true });
    expect(first.lines[0]).toEqual({ number: 1, at: 1_700_000_000_000, attempt: 1, step: 1, stream: "stdout", text: "line 1" });
    const rest = (await json(await api.call("GET", `/api/jobs/${job.id}/logs?after=${first.next}&limit=100`))) as { lines: Array<{ number: number }>; next: number; finished: boolean; more: boolean };
    expect(rest.lines.map((line) => line.number)).toEqual(range(11, 25));
    expect(rest).toMatchObject({ next: 25, finished: false, more: false });
    await finish(job.id);
    expect(await json(await api.call("GET", `/api/jobs/${job.id}/logs?after=25`))).toMatchObject({ lines: [], next: 25, finished: true, more: false });
  });

  it("validates the log queries and answers 404 for an unknown job", async () => {
    const job = await runningJob();
    for (const [query, field] of [["limit=0", "limit"], ["limit=5001", "limit"], ["after=-1", "after"], ["from=3", "from"]] as const) {
      const response = await api.call("GET", `/api/jobs/${job.id}/logs?${query}`);
      expect(response.status, query).toBe(400);
      expect(await errorOf(response)).toMatchObject({ code: "invalid_request", field });
    }
    const stream = await api.call("GET", `/api/jobs/${job.id}/logs/stream?after=x`);
    expect(await errorOf(stream)).toMatchObject({ code: "invalid_request", field: "after" });
    for (const path of ["/api/jobs/987654/logs", "/api/jobs/987654/logs/stream"]) {
      const response = await api.call("GET", path);
      expect(response.status, path).toBe(404);
      expect((await errorOf(response)).code).toBe("not_found");
    }
    expect((await api.call("GET", `/api/jobs/${job.id}/logs/stream`, { token: null })).status).toBe(401);
  });

  it("streams a job's log live, resumes from Last-Event-ID, and ends once the job finished", async () => {
    const job = await runningJob();
    await write(job.id, 1, 5);
    const headers = { Authorization: `Bearer ${api.token.read}` };
    const client = await openSse(`${base}/api/jobs/${job.id}/logs/stream`, headers);
    expect(client.status).toBe(200);
    expect(client.headers["content-type"]).toMatch(/^text\/event-stream/);
    await client.until((c) => numbers(c).length === 5, "the stored lines");
    await write(job.id, 6, 12);
    await client.until((c) => numbers(c).length === 12, "the live lines");
    const sixth = client.events.find((event) => event.id === "6")!;
    expect(JSON.parse(sixth.data)).toEqual({ number: 6, at: 1_700_000_000_000, attempt: 1, step: 0, stream: "stdout", text: "line 6" });
    client.close();

    // The connection dropped after line 12; lines written meanwhile come first on reconnect.
    await write(job.id, 13, 20);
    const resumed = await openSse(`${base}/api/jobs/${job.id}/logs/stream?after=3`, { ...headers, "Last-Event-ID": "12" });
    await resumed.until((c) => numbers(c).length === 8, "the lines after 12");
    expect(numbers(resumed)).toEqual(range(13, 20));
    await finish(job.id);
    await resumed.until((c) => c.events.some((event) => event.event === "end"), "the end");
    expect(resumed.events.at(-1)).toMatchObject({ event: "end", data: JSON.stringify({ lastLine: 20 }) });
    await resumed.ended;

    // Once finished, a new reader gets what it asks for and the end at once.
    const late = await openSse(`${base}/api/jobs/${job.id}/logs/stream?after=18`, headers);
    await late.ended;
    expect(numbers(late)).toEqual([19, 20]);
    expect(late.events.at(-1)).toMatchObject({ event: "end", data: JSON.stringify({ lastLine: 20 }) });
  });

  it("does not end the stream of a job that goes back to the queue for another attempt", async () => {
    const repository = await createRepository(test.database);
    await api.pipelines.createPipeline({ repositoryId: repository.id, plan: planOf(["jobs:", "  flaky: {retry: 1, steps: [{run: flaky}]}"]) });
    const [job] = await api.queue.leaseJobs({ owner: OWNER, limit: 1, leaseMs: 60_000 });
    await api.hub.append(job!.id, [logLine("attempt 1 fails")]);
    expect(await api.queue.finishJob(job!.id, OWNER, { status: "failure", exitCode: 1 })).toMatchObject({ retried: true });
    expect(await json(await api.call("GET", `/api/jobs/${job!.id}/logs`))).toMatchObject({ finished: false });
    const [again] = await api.queue.leaseJobs({ owner: OWNER, limit: 1, leaseMs: 60_000 });
    expect(again).toMatchObject({ id: job!.id, attempt: 2 });
    await api.hub.append(job!.id, [logLine("attempt 2 passes", { attempt: 2 })]);
    await finish(job!.id);
    const page = (await json(await api.call("GET", `/api/jobs/${job!.id}/logs`))) as { finished: boolean; lines: Array<{ attempt: number; text: string }> };
    expect(page.finished).toBe(true);
    expect(page.lines.map((line) => [line.attempt, line.text])).toEqual([
      [1, "attempt 1 fails"],
      [2, "attempt 2 passes"],
    ]);
  });
});
