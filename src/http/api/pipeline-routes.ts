// /api/pipelines: the list (filters, keyset pages), one pipeline with its jobs, cancel and retry.
import { HttpError } from "../http-error";
import type { ApiDeps, PipelineQuery, PipelineStatus } from "./ports";
import { defineRoute, type ApiRoute } from "./route";
import { cancelResult, errorBody, idParams, pipelineDetail, pipelineList, pipelinesQuery, retryBody, retryResult } from "./schemas";
import { jobJson, pipelineJson } from "./serialize";

const TAG = "pipelines";

export function pipelineRoutes(deps: Pick<ApiDeps, "pipelines" | "control">): ApiRoute[] {
  const pipelineOr404 = async (id: number) => {
    const pipeline = await deps.pipelines.getPipeline(id);
    if (!pipeline) throw new HttpError(404, "not_found", `pipeline ${id} not found`);
    return pipeline;
  };

  return [
    defineRoute({
      method: "get",
      path: "/pipelines",
      operationId: "listPipelines",
      summary: "Pipelines, newest first, a page at a time",
      tag: TAG,
      scope: "read",
      query: pipelinesQuery,
      responses: { 200: { description: "a page of pipelines", schema: pipelineList } },
      async handle({ c, query }) {
        const filter: PipelineQuery = {
          ...(query.repository !== undefined ? { repositoryId: query.repository } : {}),
          ...(query.branch !== undefined ? { branch: query.branch } : {}),
          ...(query.status !== undefined ? { status: query.status } : {}),
          ...(query.limit !== undefined ? { limit: query.limit } : {}),
          ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
        };
        const page = await deps.pipelines.listPipelines(filter);
        return c.json({ pipelines: page.pipelines.map(pipelineJson), nextCursor: page.nextCursor });
      },
    }),
    defineRoute({
      method: "get",
      path: "/pipelines/:id",
      operationId: "getPipeline",
      summary: "One pipeline with its jobs",
      tag: TAG,
      scope: "read",
      params: idParams,
      responses: { 200: { description: "the pipeline and its jobs, in plan order", schema: pipelineDetail }, 404: { description: "no such pipeline", schema: errorBody } },
      async handle({ c, params }) {
        const pipeline = await pipelineOr404(params.id);
        return c.json({ ...pipelineJson(pipeline), jobs: pipeline.jobs.map(jobJson) });
      },
    }),
    defineRoute({
      method: "post",
      path: "/pipelines/:id/cancel",
      operationId: "cancelPipeline",
      summary: "Cancel a pipeline",
      description: "Jobs not started end as cancelled; running jobs are stopped by their runners (`status` may stay running until they are). Jobs with `if: always()` or `cancelled()` still run.",
      tag: TAG,
      scope: "write",
      params: idParams,
      responses: { 200: { description: "the outcome and the pipeline's status after it", schema: cancelResult }, 404: { description: "no such pipeline", schema: errorBody } },
      async handle({ c, params }) {
        const result = await deps.control.cancelPipeline(params.id, { reason: `cancelled by ${c.get("token").name}` });
        if (result.outcome === "not_found") throw new HttpError(404, "not_found", `pipeline ${params.id} not found`);
        const pipeline = await pipelineOr404(params.id);
        c.get("log").result = result.outcome;
        return c.json({ outcome: result.outcome, status: pipeline.status as PipelineStatus });
      },
    }),
    defineRoute({
      method: "post",
      path: "/pipelines/:id/retry",
      operationId: "retryPipeline",
      summary: "Run a pipeline again",
      description:
        "By default a new pipeline (the next number) from the same plan at the same commit. With `failedOnly`, the same pipeline: its failed, timed-out, cancelled and errored jobs and the jobs they held back run again as new attempts; refused (409) while it runs or when nothing failed.",
      tag: TAG,
      scope: "write",
      params: idParams,
      body: retryBody,
      responses: {
        201: { description: "the pipeline that runs the retry", schema: retryResult },
        404: { description: "no such pipeline", schema: errorBody },
        409: { description: "nothing to retry now", schema: errorBody },
      },
      async handle({ c, params, body }) {
        const result = await deps.control.retry(params.id, { failedOnly: body.failedOnly ?? false });
        if (result.outcome === "not_found") throw new HttpError(404, "not_found", `pipeline ${params.id} not found`);
        if (result.outcome === "conflict") throw new HttpError(409, "conflict", result.reason);
        const { id, number, status } = result.pipeline;
        c.get("log").pipeline = id;
        return c.json({ pipeline: { id, number, status: status as PipelineStatus } }, 201);
      },
    }),
  ];
}
