export { createHttpApp } from "./app";
export { createMetrics, type CreateMetricsOptions, type Metrics, type WebhookResult } from "./metrics";
export { errorAnswer, HttpError } from "./http-error";
export { signGithubBody } from "./signatures";
export type { Forge, HttpAppDeps, Readiness, ReadinessProbe, WebhookDelivery, WebhookIntake } from "./ports";
