// A loopback stand-in for gust serve's REST API (the contract in src/http/api/), for the CLI's
// tests: the routes the CLI calls, bearer tokens with scopes, realistic pipelines and jobs, and a
// log stream whose first connection can be cut in the middle of an event, so resuming is tested.
// A job "runs" while its log is streamed: once every line is sent it takes its final status.
import type { AddressInfo } from "node:net";
import { serve, type HttpBindings, type ServerType } from "@hono/node-server";
import { Hono, type Context } from "hono";
import type { Job, JobStatus, LogLine, Pipeline, PipelineStatus, Repository, Step } from "../../src/cli/api-client";

export interface JobScript {
  name: string;
  steps: string[];
  lines: Array<Pick<LogLine, "step" | "stream" | "text"> & { attempt?: number }>;
  final: JobStatus;
  detail?: string;
  needs?: string[];
  /** The first stream connection is cut after this many lines, in the middle of the next event. */
  dropAfter?: number;
  /** Line numbers the stream leaves out (a server bug): the client must fill them from the pages. */
  omitFromStream?: number[];
  /** The stream never ends by itself (a job skipped before it ran): the client must notice. */
  hang?: boolean;
}

interface JobState {
  job: Job;
  steps: Step[];
  lines: LogLine[];
  script: JobScript;
  connections: number;
}

const EPOCH = Date.parse("2025-05-01T10:00:00.000Z");

export class ApiDouble {
  readonly requests: Array<{ method: string; path: string; authorization: string | undefined; lastEventId: string | undefined; body: unknown }> = [];
  readonly tokens = new Map<string, Array<"read" | "write" | "admin">>();
  readonly repositories: Repository[] = [];
  readonly pipelines = new Map<number, Pipeline>();
  readonly jobs = new Map<number, JobState>();
  /** What a trigger creates (one pipeline per entry); empty: nothing triggered. */
  nextRun: Array<{ name: string; jobs: JobScript[] }> = [];
  /** Largest page of GET /api/pipelines and of a log page. */
  pageSize = 50;
  private nextJobId = 100;
  private server!: ServerType;
  private closed = false;
  url = "";

  static async start(): Promise<ApiDouble> {
    const double = new ApiDouble();
    const app = double.routes();
    await new Promise<void>((resolve) => {
      double.server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
    });
    double.url = `http://127.0.0.1:${(double.server.address() as AddressInfo).port}`;
    return double;
  }

  async close(): Promise<void> {
    this.closed = true;
    (this.server as unknown as { closeAllConnections(): void }).closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  addRepository(fullName: string, forge: Repository["forge"] = "github"): Repository {
    const repository: Repository = { id: this.repositories.length + 1, forge, fullName, apiUrl: null, createdAt: new Date(EPOCH).toISOString() };
    this.repositories.push(repository);
    return repository;
  }

  /** A pipeline with jobs, as a trigger or a webhook would have created it. */
  addPipeline(repositoryId: number, name: string, scripts: JobScript[], fields: Partial<Pipeline> = {}): Pipeline {
    const id = this.pipelines.size + 1;
    const number = [...this.pipelines.values()].filter((p) => p.repositoryId === repositoryId).length + 1;
    const createdAt = new Date(EPOCH + id * 60_000).toISOString();
    const pipeline: Pipeline = { id, repositoryId, number, name, file: ".gust.yml", event: "manual", ref: "refs/heads/main", branch: "main", tag: null, sha: "3f9a1c27e0b4d5a6c7b8e9f0a1b2c3d4e5f60718", status: "pending", error: null, fromFork: false, createdAt, startedAt: null, finishedAt: null, ...fields };
    this.pipelines.set(id, pipeline);
    for (const script of scripts) {
      const jobId = this.nextJobId++;
      const job: Job = { id: jobId, pipelineId: id, key: script.name, name: script.name, needs: script.needs ?? [], status: script.needs?.length ? "waiting" : "queued", attempt: 1, exitCode: null, failedStep: null, detail: null, queuedAt: createdAt, startedAt: null, finishedAt: null };
      const steps = script.steps.map((stepName, index): Step => ({ index, name: stepName, attempt: 1, status: "pending", exitCode: null, startedAt: null, finishedAt: null }));
      const lines = script.lines.map((line, index): LogLine => ({ number: index + 1, at: EPOCH + index, attempt: line.attempt ?? 1, step: line.step, stream: line.stream, text: line.text }));
      this.jobs.set(jobId, { job, steps, lines, script, connections: 0 });
    }
    return pipeline;
  }

  jobsOf(pipelineId: number): JobState[] {
    return [...this.jobs.values()].filter((state) => state.job.pipelineId === pipelineId);
  }

  /** The job reaches its scripted end; the pipeline follows once all its jobs did. */
  finishJob(state: JobState, status: JobStatus = state.script.final): void {
    const now = new Date().toISOString();
    state.job = { ...state.job, status, detail: state.script.detail ?? null, startedAt: status === "skipped" ? null : (state.job.startedAt ?? now), finishedAt: now, exitCode: status === "success" ? 0 : status === "failure" ? 1 : null };
    const pipeline = this.pipelines.get(state.job.pipelineId)!;
    const jobs = this.jobsOf(pipeline.id);
    // Jobs that need a job that did not succeed are skipped (the server's rule, simplified).
    for (const other of jobs) {
      if (!other.job.needs.includes(state.job.key) || other.job.status !== "waiting") continue;
      if (status !== "success") this.finishJob(other, "skipped");
      else if (other.job.needs.every((need) => jobs.find((j) => j.job.key === need)?.job.status === "success")) other.job = { ...other.job, status: "queued" };
    }
    if (jobs.every((j) => !["waiting", "queued", "running"].includes(j.job.status))) {
      const failed = jobs.some((j) => ["failure", "timed_out", "error"].includes(j.job.status));
      this.setPipeline(pipeline.id, { status: failed ? "failure" : jobs.some((j) => j.job.status === "cancelled") ? "cancelled" : "success", finishedAt: now });
    }
  }

  private setPipeline(id: number, changes: Partial<Pipeline>): void {
    this.pipelines.set(id, { ...this.pipelines.get(id)!, ...changes });
  }

  private routes(): Hono<{ Bindings: HttpBindings }> {
    const app = new Hono<{ Bindings: HttpBindings }>();
    app.use("/api/*", async (c, next) => {
      const body = c.req.method === "POST" ? await c.req.raw.clone().json().catch(() => undefined) : undefined;
      const url = new URL(c.req.url);
      this.requests.push({ method: c.req.method, path: url.pathname + url.search, authorization: c.req.header("authorization"), lastEventId: c.req.header("last-event-id"), body });
      const token = /^Bearer (\S+)$/.exec(c.req.header("authorization") ?? "")?.[1];
      const scopes = token === undefined ? undefined : this.tokens.get(token);
      if (!scopes) return c.json({ error: { code: "unauthorized", message: token === undefined ? "an API token is required" : "this token is not valid (unknown, revoked or expired)" } }, 401, { "WWW-Authenticate": "Bearer" });
      const needed = c.req.method === "GET" ? "read" : "write";
      if (!scopes.includes(needed) && !scopes.includes("admin") && !(needed === "read" && scopes.includes("write"))) return c.json({ error: { code: "forbidden", message: `this token lacks the '${needed}' scope` } }, 403);
      await next();
    });
    const notFound = (c: Context, what: string) => c.json({ error: { code: "not_found", message: `${what} not found` } }, 404);

    app.get("/api/repositories", (c) => {
      const name = c.req.query("name");
      return c.json({ repositories: this.repositories.filter((r) => name === undefined || r.fullName === name) });
    });
    app.get("/api/repositories/:id", (c) => this.repositories.find((r) => r.id === Number(c.req.param("id"))) ? c.json(this.repositories.find((r) => r.id === Number(c.req.param("id")))!) : notFound(c, `repository ${c.req.param("id")}`));
    app.post("/api/repositories/:id/trigger", async (c) => {
      const repository = this.repositories.find((r) => r.id === Number(c.req.param("id")));
      if (!repository) return notFound(c, `repository ${c.req.param("id")}`);
      const body = (await c.req.json()) as { ref?: unknown; inputs?: Record<string, unknown>; pipeline?: string };
      for (const [name, value] of Object.entries(body.inputs ?? {})) {
        if (!["string", "number", "boolean"].includes(typeof value)) return c.json({ error: { code: "invalid_request", message: `inputs.${name} must be a string, number or boolean`, field: `inputs.${name}` } }, 400);
      }
      const ref = typeof body.ref === "string" ? (body.ref.startsWith("refs/") ? body.ref : `refs/heads/${body.ref}`) : "refs/heads/main";
      const sha = "9c1e5b7a2d4f6e8a0b1c3d5e7f9a1b2c3d4e5f60";
      const runs = this.nextRun.filter((run) => body.pipeline === undefined || run.name === body.pipeline);
      if (runs.length === 0) return c.json({ sha, ref, pipelines: [], reason: body.pipeline ? `no pipeline named '${body.pipeline}' has a manual trigger` : "no pipeline file has a manual trigger" }, 200);
      const created = runs.map((run) => this.addPipeline(repository.id, run.name, run.jobs, { ref, branch: ref.replace(/^refs\/heads\//, ""), sha }));
      return c.json({ sha, ref, pipelines: created.map(({ id, number, name, status }) => ({ id, number, name, status })) }, 201);
    });

    app.get("/api/pipelines", (c) => {
      const repository = c.req.query("repository");
      const statuses = c.req.query("status")?.split(",");
      const limit = Math.min(Number(c.req.query("limit") ?? 20), this.pageSize);
      const cursor = c.req.query("cursor");
      const all = [...this.pipelines.values()]
        .filter((p) => repository === undefined || p.repositoryId === Number(repository))
        .filter((p) => c.req.query("branch") === undefined || p.branch === c.req.query("branch"))
        .filter((p) => statuses === undefined || statuses.includes(p.status))
        .filter((p) => cursor === undefined || p.id < Number(cursor))
        .sort((a, b) => b.id - a.id);
      const page = all.slice(0, limit);
      return c.json({ pipelines: page, nextCursor: all.length > limit ? String(page[page.length - 1]!.id) : null });
    });
    app.get("/api/pipelines/:id", (c) => {
      const pipeline = this.pipelines.get(Number(c.req.param("id")));
      return pipeline ? c.json({ ...pipeline, jobs: this.jobsOf(pipeline.id).map((s) => s.job) }) : notFound(c, `pipeline ${c.req.param("id")}`);
    });
    app.post("/api/pipelines/:id/cancel", (c) => {
      const pipeline = this.pipelines.get(Number(c.req.param("id")));
      if (!pipeline) return notFound(c, `pipeline ${c.req.param("id")}`);
      if (!["pending", "running"].includes(pipeline.status)) return c.json({ outcome: "already_finished", status: pipeline.status });
      for (const state of this.jobsOf(pipeline.id)) if (["waiting", "queued", "running"].includes(state.job.status)) state.job = { ...state.job, status: "cancelled" };
      this.setPipeline(pipeline.id, { status: "cancelled", finishedAt: new Date().toISOString() });
      return c.json({ outcome: "cancelled", status: "cancelled" satisfies PipelineStatus });
    });
    app.post("/api/pipelines/:id/retry", async (c) => {
      const pipeline = this.pipelines.get(Number(c.req.param("id")));
      if (!pipeline) return notFound(c, `pipeline ${c.req.param("id")}`);
      const { failedOnly } = (await c.req.json().catch(() => ({}))) as { failedOnly?: boolean };
      if (!failedOnly) {
        const again = this.addPipeline(pipeline.repositoryId, pipeline.name, this.jobsOf(pipeline.id).map((s) => s.script), { sha: pipeline.sha, ref: pipeline.ref, branch: pipeline.branch, event: pipeline.event });
        return c.json({ pipeline: { id: again.id, number: again.number, status: again.status } }, 201);
      }
      if (["pending", "running"].includes(pipeline.status)) return c.json({ error: { code: "conflict", message: `pipeline ${pipeline.id} is still running` } }, 409);
      const failed = this.jobsOf(pipeline.id).filter((s) => ["failure", "timed_out", "cancelled", "error", "skipped"].includes(s.job.status));
      if (failed.length === 0) return c.json({ error: { code: "conflict", message: `pipeline ${pipeline.id} has no failed jobs to retry` } }, 409);
      for (const state of failed) state.job = { ...state.job, status: "queued", attempt: state.job.attempt + 1, finishedAt: null };
      this.setPipeline(pipeline.id, { status: "running", finishedAt: null });
      return c.json({ pipeline: { id: pipeline.id, number: pipeline.number, status: "running" } }, 201);
    });

    app.get("/api/jobs/:id", (c) => {
      const state = this.jobs.get(Number(c.req.param("id")));
      return state ? c.json({ ...state.job, steps: state.steps }) : notFound(c, `job ${c.req.param("id")}`);
    });
    app.get("/api/jobs/:id/logs", (c) => {
      const state = this.jobs.get(Number(c.req.param("id")));
      if (!state) return notFound(c, `job ${c.req.param("id")}`);
      const after = Number(c.req.query("after") ?? 0);
      const limit = Math.min(Number(c.req.query("limit") ?? 1000), this.pageSize);
      const lines = state.lines.filter((line) => line.number > after).slice(0, limit);
      const finished = !["waiting", "queued", "running"].includes(state.job.status);
      return c.json({ jobId: state.job.id, lines, next: lines[lines.length - 1]?.number ?? after, finished, more: lines.length === limit });
    });
    app.get("/api/jobs/:id/logs/stream", (c) => {
      const state = this.jobs.get(Number(c.req.param("id")));
      if (!state) return notFound(c, `job ${c.req.param("id")}`);
      const resumeFrom = c.req.header("last-event-id") ?? c.req.query("after") ?? "0";
      return this.stream(c, state, Number(resumeFrom));
    });
    return app;
  }

  private stream(c: Context<{ Bindings: HttpBindings }>, state: JobState, after: number): Response {
    state.connections++;
    const first = state.connections === 1;
    const encoder = new TextEncoder();
    const event = (line: LogLine) => `id: ${line.number}\nevent: line\ndata: ${JSON.stringify(line)}\n\n`;
    const pipeline = this.pipelines.get(state.job.pipelineId)!;
    if (pipeline.status === "pending") this.setPipeline(pipeline.id, { status: "running", startedAt: new Date().toISOString() });
    const body = new ReadableStream<Uint8Array>({
      start: async (controller) => {
        controller.enqueue(encoder.encode("retry: 50\n\n: connected\n\n"));
        if (state.script.hang) return; // open until the client hangs up
        // A job waiting for its needs: the stream stays open until it runs or is skipped.
        while (state.job.status === "waiting" && !this.closed && !c.req.raw.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 10));
        if (state.job.status === "queued") state.job = { ...state.job, status: "running", startedAt: new Date().toISOString() };
        const pending = state.lines.filter((line) => line.number > after);
        const cut = first && state.script.dropAfter !== undefined ? state.script.dropAfter : undefined;
        for (const [index, line] of pending.entries()) {
          if (cut !== undefined && index === cut) {
            // Half an event, then the connection dies: the client must not print it, and must resume.
            controller.enqueue(encoder.encode(event(line).slice(0, 25)));
            await new Promise((resolve) => setTimeout(resolve, 20));
            c.env.incoming.socket.destroy();
            return;
          }
          if (!state.script.omitFromStream?.includes(line.number)) controller.enqueue(encoder.encode(event(line)));
        }
        if (state.job.status === "running") this.finishJob(state);
        controller.enqueue(encoder.encode(`event: end\ndata: ${JSON.stringify({ lastLine: state.lines.length })}\n\n`));
        controller.close();
      },
    });
    return new Response(body, { headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" } });
  }
}
