// The REST API as a Hono app to mount under /api: every route with its token check (and a body
// limit where there is a body), plus the OpenAPI document of them all. Errors are thrown to the
// parent app's onError, the one place that turns them into answers.
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HttpError } from "../http-error";
import { authorize } from "./auth";
import { jobRoutes } from "./job-routes";
import { openApiDocument } from "./openapi";
import { pipelineRoutes } from "./pipeline-routes";
import type { ApiDeps } from "./ports";
import { releaseRoutes } from "./release-routes";
import { repositoryRoutes } from "./repository-routes";
import { defineRoute, type ApiEnv, type ApiRoute } from "./route";
import { tokenRoutes } from "./token-routes";

export type { ApiDeps, TriggerPort, TriggerRequest, TriggerResult } from "./ports";
export type { ApiEnv, ApiRoute } from "./route";

export const API_BASE_PATH = "/api";
/** Request bodies of the API are small JSON objects. */
const BODY_LIMIT = 64 * 1024;

export interface ApiAppOptions {
  /** Shown in the OpenAPI document. */
  version?: string;
}

export function createApiApp(deps: ApiDeps, options: ApiAppOptions = {}): Hono<ApiEnv> {
  const routes: ApiRoute[] = [...repositoryRoutes(deps), ...pipelineRoutes(deps), ...jobRoutes(deps), ...releaseRoutes(deps), ...tokenRoutes(deps)];
  let document: object | undefined;
  routes.push(
    defineRoute({
      method: "get",
      path: "/openapi.json",
      operationId: "getOpenApiDocument",
      summary: "This document",
      tag: "meta",
      scope: null,
      responses: { 200: { description: "the OpenAPI 3.1 document of the API" } },
      handle({ c }) {
        document ??= openApiDocument(routes, { title: "Gust API", version: options.version ?? "0.1.0", basePath: API_BASE_PATH });
        return c.json(document);
      },
    }),
  );

  const app = new Hono<ApiEnv>();
  const limit = bodyLimit({
    maxSize: BODY_LIMIT,
    onError: () => {
      throw new HttpError(413, "payload_too_large", `request bodies are limited to ${BODY_LIMIT} bytes`);
    },
  });
  for (const route of routes) {
    const guards: MiddlewareHandler<ApiEnv>[] = [...(route.scope ? [authorize(deps.tokens, route.scope)] : []), ...(route.body ? [limit] : [])];
    app.on(route.method.toUpperCase(), [route.path], ...guards, route.handler);
  }
  return app;
}
