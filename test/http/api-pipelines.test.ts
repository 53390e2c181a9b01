// /api/pipelines against real stores: the list with its filters and pages, a pipeline with its
// jobs (and none of the internal columns), cancel, and both kinds of retry, with their 400, 404 and
// 409 answers.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { createRepository, planOf, runJobs } from "../store/fixtures";
import { createApiHarness, errorOf, json, type ApiHarness } from "./api-harness";

const PIPELINE = ["jobs:", "  build: {steps: [{run: build}]}", "  test: {needs: build, steps: [{run: test}]}"];
const PIPELINE_KEYS = ["id", "repositoryId", "number", "name", "file", "event", "ref", "branch", "tag", "sha", "status", "error", "fromFork", "createdAt", "startedAt", "finishedAt"];
const JOB_KEYS = ["id", "pipelineId", "key", "name", "needs", "status", "attempt", "exitCode", "failedStep", "detail", "queuedAt", "startedAt", "finishedAt"];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe.each(DATABASE_KINDS)("API: pipelines (%s)", (kind) => {
  const test = useTestDatabase(kind);
  let api: ApiHarness;
  beforeAll(async () => {
    api = await createApiHarness(test.database);
  });
  afterAll(() => api.close());
  // Tokens live in api_tokens, which reset() empties too: only pipelines and repositories go.
  beforeEach(async () => {
    for (const repository of await api.repositories.listRepositories()) await api.repositories.deleteRepository(repository.id);
  });

  async function create(options: { branch?: string; lines?: string[] } = {}): Promise<{ id: number; repositoryId: number }> {
    const repository = await createRepository(test.database);
    return createIn(repository.id, options);
  }
  async function createIn(repositoryId: number, options: { branch?: string; lines?: string[] } = {}) {
    const branch = options.branch ?? "main";
    const plan = planOf(options.lines ?? PIPELINE, { event: "push", ref: `refs/heads/${branch}`, sha: "5ca1ab1e", branch });
    const created = await api.pipelines.createPipeline({ repositoryId, plan });
    return { id: created.id, repositoryId };
  }

  it("lists pipelines newest first with exactly the documented fields", async () => {
    const first = await create();
    const second = await createIn(first.repositoryId, { branch: "dev" });
    const response = await api.call("GET", `/api/pipelines?repository=${first.repositoryId}`, { token: api.token.read });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { pipelines: Array<Record<string, unknown>>; nextCursor: string | null };
    expect(body.pipelines.map((p) => p.id)).toEqual([second.id, first.id]);
    expect(body.nextCursor).toBeNull();
    const [pipeline] = body.pipelines;
    expect(Object.keys(pipeline!).sort()).toEqual([...PIPELINE_KEYS].sort());
    expect(pipeline).toMatchObject({ repositoryId: first.repositoryId, number: 2, event: "push", ref: "refs/heads/dev", branch: "dev", tag: null, sha: "5ca1ab1e", status: "pending", error: null, fromFork: false, startedAt: null, finishedAt: null });
    expect(pipeline!.createdAt).toMatch(ISO);
  });

  it("filters by branch and by a list of statuses, and pages with the cursor", async () => {
    const { repositoryId, id: a } = await create();
    const b = (await createIn(repositoryId)).id;
    const c = (await createIn(repositoryId, { branch: "dev" })).id;
    await api.queue.cancelPipeline(a);
    const ids = async (query: string) => ((await json(await api.call("GET", `/api/pipelines?${query}`))) as { pipelines: Array<{ id: number }> }).pipelines.map((p) => p.id);
    expect(await ids(`repository=${repositoryId}&branch=main`)).toEqual([b, a]);
    expect(await ids(`repository=${repositoryId}&status=cancelled`)).toEqual([a]);
    expect(await ids(`repository=${repositoryId}&status=pending,cancelled`)).toEqual([c, b, a]);
    expect(await ids(`repository=${repositoryId + 1000}`)).toEqual([]);

    const page1 = (await json(await api.call("GET", `/api/pipelines?repository=${repositoryId}&limit=2`))) as { pipelines: Array<{ id: number }>; nextCursor: string };
    expect(page1.pipelines.map((p) => p.id)).toEqual([c, b]);
    expect(page1.nextCursor).toBe(String(b));
    const page2 = (await json(await api.call("GET", `/api/pipelines?repository=${repositoryId}&limit=2&cursor=${page1.nextCursor}`))) as { pipelines: Array<{ id: number }>; nextCursor: string | null };
    expect(page2).toEqual({ pipelines: [expect.objectContaining({ id: a })], nextCursor: null });
  });

  it("answers 400 invalid_request naming the bad query field", async () => {
    const cases: Array<[string, string, RegExp]> = [
      ["status=pending,finished", "status.1", /invalid query field 'status.1'/],
      ["limit=0", "limit", /invalid query field 'limit'/],
      ["limit=500", "limit", /limit/],
      ["limit=ten", "limit", /whole number/],
      ["repository=abc", "repository", /positive integer/],
      ["cursor=-3", "cursor", /nextCursor/],
      ["sort=asc", "sort", /unknown field/],
      ["branch=", "branch", /branch/],
    ];
    for (const [query, field, message] of cases) {
      const response = await api.call("GET", `/api/pipelines?${query}`, { token: api.token.read });
      expect(response.status, query).toBe(400);
      const error = await errorOf(response);
      expect(error, query).toMatchObject({ code: "invalid_request", field });
      expect(error.message, query).toMatch(message);
    }
  });

  it("shows a pipeline with its jobs and nothing internal", async () => {
    const { id } = await create();
    await runJobs(api.queue, "replica-1", {});
    const response = await api.call("GET", `/api/pipelines/${id}`, { token: api.token.read });
    expect(response.status).toBe(200);
    const text = await response.clone().text();
    for (const internal of ["plan", "spec", "leaseOwner", "replica-1", "runId", "cancelRequested", "concurrencyGroup", "deliveryId", "inputs", "logBytes"]) expect(text, internal).not.toContain(internal);
    const body = (await response.json()) as Record<string, unknown> & { jobs: Array<Record<string, unknown>> };
    expect(Object.keys(body).sort()).toEqual([...PIPELINE_KEYS, "jobs"].sort());
    expect(body.status).toBe("running");
    expect(body.startedAt).toMatch(ISO);
    expect(body.jobs.map((job) => [job.key, job.status, job.needs, job.attempt])).toEqual([
      ["build", "running", [], 1],
      ["test", "waiting", ["build"], 0],
    ]);
    expect(Object.keys(body.jobs[0]!).sort()).toEqual([...JOB_KEYS].sort());
    expect(body.jobs[0]!.queuedAt).toMatch(ISO);
  });

  it("answers 404 for an unknown pipeline and 400 for an id that is not one", async () => {
    const missing = await api.call("GET", "/api/pipelines/987654", { token: api.token.read });
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toEqual({ code: "not_found", message: "pipeline 987654 not found" });
    const bad = await api.call("GET", "/api/pipelines/twelve", { token: api.token.read });
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toMatchObject({ code: "invalid_request", field: "id" });
  });

  it("cancels a pipeline and says its status after; a second cancel finds it finished", async () => {
    const { id } = await create();
    const response = await api.call("POST", `/api/pipelines/${id}/cancel`, { token: api.token.write });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ outcome: "cancelled", status: "cancelled" });
    const detail = (await json(await api.call("GET", `/api/pipelines/${id}`))) as { jobs: Array<{ key: string; status: string; detail: string }> };
    expect(detail.jobs.find((job) => job.key === "build")).toMatchObject({ status: "cancelled", detail: "cancelled by writer" });
    expect(await json(await api.call("POST", `/api/pipelines/${id}/cancel`, { token: api.token.write }))).toEqual({ outcome: "already_finished", status: "cancelled" });
    expect((await api.call("POST", "/api/pipelines/987654/cancel", { token: api.token.write })).status).toBe(404);
  });

  it("cancels a running pipeline: it stays running until its runner stops the job", async () => {
    const { id } = await create();
    await runJobs(api.queue, "replica-1", {});
    expect(await json(await api.call("POST", `/api/pipelines/${id}/cancel`, { token: api.token.write }))).toEqual({ outcome: "cancelled", status: "running" });
  });

  it("retries a whole pipeline as a new one", async () => {
    const { id } = await create();
    await runJobs(api.queue, "r", { build: "success" });
    await runJobs(api.queue, "r", { test: { status: "failure", exitCode: 1 } });
    const response = await api.call("POST", `/api/pipelines/${id}/retry`, { token: api.token.write });
    expect(response.status).toBe(201);
    const body = (await json(response)) as { pipeline: { id: number; number: number; status: string } };
    expect(body).toEqual({ pipeline: { id: expect.any(Number), number: 2, status: "pending" } });
    expect(body.pipeline.id).not.toBe(id);
    const retried = (await json(await api.call("GET", `/api/pipelines/${body.pipeline.id}`))) as { sha: string; jobs: Array<{ status: string }> };
    expect(retried.sha).toBe("5ca1ab1e");
    expect(retried.jobs.map((job) => job.status)).toEqual(["queued", "waiting"]);
  });

  it("retries the failed jobs of the same pipeline, and refuses with 409 while it runs or when nothing failed", async () => {
    const { id } = await create();
    await runJobs(api.queue, "r", { build: "success" });
    const running = await api.call("POST", `/api/pipelines/${id}/retry`, { token: api.token.write, body: { failedOnly: true } });
    expect(running.status).toBe(409);
    expect(await errorOf(running)).toEqual({ code: "conflict", message: expect.stringMatching(/still running/) });

    await runJobs(api.queue, "r", { test: { status: "failure", exitCode: 2 } });
    const response = await api.call("POST", `/api/pipelines/${id}/retry`, { token: api.token.write, body: { failedOnly: true } });
    expect(response.status).toBe(201);
    expect(await json(response)).toEqual({ pipeline: { id, number: 1, status: "running" } });
    const detail = (await json(await api.call("GET", `/api/pipelines/${id}`))) as { status: string; finishedAt: string | null; jobs: Array<{ key: string; status: string; exitCode: number | null; attempt: number }> };
    expect(detail).toMatchObject({ status: "running", finishedAt: null });
    expect(detail.jobs.map((job) => [job.key, job.status, job.exitCode, job.attempt])).toEqual([
      ["build", "success", null, 1],
      ["test", "queued", null, 1],
    ]);

    await runJobs(api.queue, "r", { test: "success" });
    const nothing = await api.call("POST", `/api/pipelines/${id}/retry`, { token: api.token.write, body: { failedOnly: true } });
    expect(nothing.status).toBe(409);
    expect((await errorOf(nothing)).message).toMatch(/no failed/);
    expect((await api.call("POST", "/api/pipelines/987654/retry", { token: api.token.write, body: { failedOnly: true } })).status).toBe(404);
  });

  it("answers 400 invalid_request naming the bad body field", async () => {
    const { id } = await create();
    const cases: Array<[unknown, string | undefined, RegExp]> = [
      [{ failedOnly: "yes" }, "failedOnly", /invalid body field 'failedOnly': .*boolean/],
      [{ failed_only: true }, "failed_only", /unknown field/],
      [[true], undefined, /invalid body/],
      ["{failedOnly: true}", undefined, /not valid JSON/],
    ];
    for (const [body, field, message] of cases) {
      const response = await api.call("POST", `/api/pipelines/${id}/retry`, { token: api.token.write, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      const error = await errorOf(response);
      expect(error.code).toBe("invalid_request");
      expect(error.field).toBe(field);
      expect(error.message).toMatch(message);
    }
    const notJson = await api.call("POST", `/api/pipelines/${id}/retry`, { token: api.token.write, body: "failedOnly=true", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    expect(notJson.status).toBe(400);
    expect((await errorOf(notJson)).message).toMatch(/must be JSON/);
    const tooLarge = await api.call("POST", `/api/pipelines/${id}/retry`, { token: api.token.write, body: { failedOnly: true, pad: "x".repeat(100_000) } });
    expect(tooLarge.status).toBe(413);
    // Nothing was retried by any of them.
    expect(((await json(await api.call("GET", `/api/pipelines?repository=${(await api.pipelines.getPipeline(id))!.repositoryId}`))) as { pipelines: unknown[] }).pipelines).toHaveLength(1);
  });
});
