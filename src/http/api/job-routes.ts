// /api/jobs: one job with the steps of every attempt, and its log as pages or as a live stream
// (the handlers of src/logs/sse.ts, mounted here behind the token check and query validation).
import { logPageHandler, logStreamHandler } from "../../logs/sse";
import { HttpError } from "../http-error";
import type { ApiDeps } from "./ports";
import { defineRoute, type ApiRoute } from "./route";
import { errorBody, idParams, jobDetail, logPage, logPageQuery, logStreamQuery } from "./schemas";
import { jobJson, stepJson } from "./serialize";

const TAG = "jobs";

export function jobRoutes(deps: Pick<ApiDeps, "pipelines" | "logs">): ApiRoute[] {
  const page = logPageHandler({ store: deps.logs.store, jobState: deps.logs.jobState });
  const stream = logStreamHandler({
    hub: deps.logs.hub,
    jobState: deps.logs.jobState,
    ...(deps.logs.heartbeatMs !== undefined ? { heartbeatMs: deps.logs.heartbeatMs } : {}),
  });
  const notFound = { description: "no such job", schema: errorBody };

  return [
    defineRoute({
      method: "get",
      path: "/jobs/:id",
      operationId: "getJob",
      summary: "One job with the steps of every attempt",
      tag: TAG,
      scope: "read",
      params: idParams,
      responses: { 200: { description: "the job and its steps", schema: jobDetail }, 404: notFound },
      async handle({ c, params }) {
        const job = await deps.pipelines.getJob(params.id);
        if (!job) throw new HttpError(404, "not_found", `job ${params.id} not found`);
        return c.json({ ...jobJson(job), steps: job.steps.map(stepJson) });
      },
    }),
    defineRoute({
      method: "get",
      path: "/jobs/:id/logs",
      operationId: "getJobLog",
      summary: "A page of a job's log lines",
      tag: TAG,
      scope: "read",
      params: idParams,
      query: logPageQuery,
      responses: { 200: { description: "lines after `after`, in order", schema: logPage }, 404: notFound },
      handle: ({ c }) => page(c),
    }),
    defineRoute({
      method: "get",
      path: "/jobs/:id/logs/stream",
      operationId: "streamJobLog",
      summary: "A job's log lines as Server-Sent Events, live",
      description:
        "One `line` event per line, `id:` its number and `data:` the line as in LogLine; resumable with Last-Event-ID (or `after`). An `end` event with data `{\"lastLine\": N}` follows the last line once the job finished. Comments every 15 s keep the connection open.",
      tag: TAG,
      scope: "read",
      params: idParams,
      query: logStreamQuery,
      responses: { 200: { description: "an event stream", contentType: "text/event-stream" }, 404: notFound },
      handle: ({ c }) => stream(c),
    }),
  ];
}
