// /api/repositories: list, register, one, and a manual trigger.
import { isAbsolute } from "node:path";
import { isGustError } from "../../errors";
import { HttpError } from "../http-error";
import type { ApiDeps } from "./ports";
import { defineRoute, type ApiRoute } from "./route";
import { createRepositoryBody, errorBody, idParams, repositoriesQuery, repositoryList, repositorySchema, triggerBody, triggerCreated, triggerNothing, triggerPending } from "./schemas";
import { repositoryJson } from "./serialize";

const TAG = "repositories";

export function repositoryRoutes(deps: Pick<ApiDeps, "repositories" | "trigger">): ApiRoute[] {
  const repositoryOr404 = async (id: number) => {
    const repository = await deps.repositories.getRepository(id);
    if (!repository) throw new HttpError(404, "not_found", `repository ${id} not found`);
    return repository;
  };

  return [
    defineRoute({
      method: "get",
      path: "/repositories",
      operationId: "listRepositories",
      summary: "Repositories Gust builds",
      tag: TAG,
      scope: "read",
      query: repositoriesQuery,
      responses: { 200: { description: "the repositories, by forge and name", schema: repositoryList } },
      async handle({ c, query }) {
        const all = await deps.repositories.listRepositories();
        const selected = query.name === undefined ? all : all.filter((repository) => repository.fullName === query.name);
        return c.json({ repositories: selected.map(repositoryJson) });
      },
    }),
    defineRoute({
      method: "post",
      path: "/repositories",
      operationId: "createRepository",
      summary: "Register a repository (what `gust repo add` does while the server holds the embedded database)",
      tag: TAG,
      scope: "admin",
      body: createRepositoryBody,
      responses: { 201: { description: "the repository", schema: repositorySchema }, 409: { description: "already registered", schema: errorBody } },
      async handle({ c, body }) {
        if (body.forge === "local" && !isAbsolute(body.fullName)) throw new HttpError(400, "invalid_request", "fullName of a local repository must be an absolute path");
        try {
          const created = await deps.repositories.createRepository({
            forge: body.forge,
            fullName: body.fullName,
            apiUrl: body.apiUrl ?? null,
            ...(body.credentials !== undefined ? { credentials: body.credentials } : {}),
            ...(body.webhookSecrets !== undefined ? { webhookSecrets: body.webhookSecrets } : {}),
            ...(body.maxConcurrentJobs !== undefined ? { maxConcurrentJobs: body.maxConcurrentJobs } : {}),
            ...(body.cloneUrl !== undefined ? { settings: { cloneUrl: body.cloneUrl } } : {}),
          });
          c.get("log").created = created.id;
          return c.json(repositoryJson(created), 201);
        } catch (error) {
          if (isGustError(error) && error.code === "repository_exists") throw new HttpError(409, "conflict", error.message);
          throw error;
        }
      },
    }),
    defineRoute({
      method: "get",
      path: "/repositories/:id",
      operationId: "getRepository",
      summary: "One repository",
      tag: TAG,
      scope: "read",
      params: idParams,
      responses: { 200: { description: "the repository", schema: repositorySchema }, 404: { description: "no such repository", schema: errorBody } },
      async handle({ c, params }) {
        return c.json(repositoryJson(await repositoryOr404(params.id)));
      },
    }),
    defineRoute({
      method: "post",
      path: "/repositories/:id/trigger",
      operationId: "triggerPipelines",
      summary: "Run the repository's pipelines that have a manual trigger",
      description: "Reads the pipeline files at the ref's commit and creates the pipelines whose `manual` trigger accepts the inputs.",
      tag: TAG,
      scope: "write",
      params: idParams,
      body: triggerBody,
      responses: {
        201: { description: "pipelines were created", schema: triggerCreated },
        200: { description: "nothing was triggered; `reason` says why", schema: triggerNothing },
        202: { description: "stored, but the forge could not be reached: it is processed later", schema: triggerPending },
        404: { description: "no such repository", schema: errorBody },
      },
      async handle({ c, params, body }) {
        await repositoryOr404(params.id);
        const result = await deps.trigger(params.id, {
          ...(body.ref !== undefined ? { ref: body.ref } : {}),
          ...(body.inputs !== undefined ? { inputs: body.inputs } : {}),
          ...(body.pipeline !== undefined ? { pipeline: body.pipeline } : {}),
          actor: c.get("token").name,
        });
        c.get("log").result = result.status;
        switch (result.status) {
          case "created":
            return c.json(
              { sha: result.sha, ref: result.ref, pipelines: result.pipelines.map((p) => ({ id: p.id, number: p.number, name: p.name, status: p.status })) },
              201,
            );
          case "not_triggered":
            return c.json({ sha: result.sha, ref: result.ref, pipelines: [], reason: result.reason }, 200);
          case "pending":
            return c.json({ deliveryId: result.deliveryId, status: "pending" }, 202);
        }
      },
    }),
  ];
}
