// What the HTTP layer needs from the rest of Gust, as small interfaces. The store and app layers
// implement them; main/ wires the concrete ones in.
import type { Logger } from "pino";
import type { ApiDeps } from "./api/ports";
import type { Metrics } from "./metrics";

export type Forge = "github" | "gitlab";

export interface WebhookDelivery {
  forge: Forge;
  /**
   * Stable across redeliveries of the same event: X-GitHub-Delivery; on GitLab Idempotency-Key,
   * else X-Gitlab-Event-UUID.
   */
  deliveryId: string;
  /** The forge's event name as sent: `push`, `pull_request`; `Push Hook`, `Merge Request Hook`. */
  event: string;
  /** The JSON body, parsed only after its signature or token was verified. */
  payload: Record<string, unknown>;
  /** Set when the delivery came to a repository's own URL (`/hooks/github/:repositoryId`). */
  repositoryId?: number;
}

export interface WebhookIntake {
  /**
   * Stores the delivery durably before resolving: the 202 that follows promises the event survives
   * a crash. A delivery id already stored for this forge creates nothing and answers `duplicate`.
   */
  accept(delivery: WebhookDelivery): Promise<{ status: "created" | "duplicate" }>;
  /**
   * Secrets a delivery may be signed with, several while one is being rotated: the global ones
   * (a GitHub App's, from the configuration) without `repositoryId`, else that repository's.
   * An unknown repository has none, so its deliveries are refused like any bad signature.
   */
  secretsFor(forge: Forge, repositoryId?: number): Promise<string[]>;
}

export type Readiness = { ready: true } | { ready: false; reason: string };

export interface ReadinessProbe {
  /** Whether this replica can take work now (database reachable, migrations applied, not draining). */
  check(): Promise<Readiness>;
}

export interface HttpAppDeps {
  intake: WebhookIntake;
  readiness: ReadinessProbe;
  /** The shared registry and the HTTP layer's own metrics; see createMetrics(). */
  metrics: Metrics;
  logger: Logger;
  /** Bytes a webhook body may have; default 25 MiB, GitHub's own cap. */
  webhookBodyLimit?: number;
  /** How long /readyz waits for the probe before answering 503; default 2 s. */
  readinessTimeoutMs?: number;
  /** The REST API under /api (tokens, pipelines, jobs, logs); absent: not mounted. */
  api?: ApiDeps;
}
