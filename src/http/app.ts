// The Hono app of `gust serve`: webhook intake, probes and metrics, the REST API (/api), one error
// mapping. It holds no state of its own; everything it talks to comes in through HttpAppDeps.
import { Hono } from "hono";
import { API_BASE_PATH, createApiApp } from "./api";
import type { AppEnv } from "./app-env";
import { githubWebhook } from "./github-webhook";
import { gitlabWebhook } from "./gitlab-webhook";
import { registerHealthRoutes } from "./health-routes";
import { errorResponse, errorsOnly } from "./http-error";
import type { HttpAppDeps } from "./ports";
import { requestLog } from "./request-log";
import type { WebhookDeps } from "./webhook-common";

const DEFAULT_BODY_LIMIT = 25 * 1024 * 1024;

export function createHttpApp(deps: HttpAppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const webhooks: WebhookDeps = {
    intake: deps.intake,
    metrics: deps.metrics,
    bodyLimit: deps.webhookBodyLimit ?? DEFAULT_BODY_LIMIT,
  };

  app.use(requestLog(deps.logger));
  app.use(errorsOnly);

  const github = githubWebhook(webhooks);
  app.post("/hooks/github", github);
  app.post("/hooks/github/:repositoryId{[0-9]+}", github);
  const gitlab = gitlabWebhook(webhooks);
  app.post("/hooks/gitlab", gitlab);
  app.post("/hooks/gitlab/:repositoryId{[0-9]+}", gitlab);

  registerHealthRoutes(app, deps.readiness, deps.metrics, deps.readinessTimeoutMs ?? 2000);
  if (deps.api) app.route(API_BASE_PATH, createApiApp(deps.api));

  app.notFound((c) => c.json({ error: { code: "not_found", message: `no route for ${c.req.method} ${c.req.path}` } }, 404));
  app.onError((error) => errorResponse(error, deps.logger));
  return app;
}
