// The seam between the release controller and a deploy target (FC, SAE, a local router). A
// provider is made for one target alias: one FC function's alias, one SAE application, one local
// port. The controller decides; the provider only carries out absolute, idempotent calls.
//
// Contract (test/contract/deploy-provider-contract.ts runs it against every provider):
//  1. publish(artifact) makes the artifact an immutable version. The same artifact (same digest)
//     gives the same version again with `created: false`, also after a restart; a different one
//     gives a new version. Publishing never moves traffic.
//  2. traffic() reads the split that is live now. stable is null only when the target serves
//     nothing yet. A canary has a weight in percent (0–100); a route sends matching requests to
//     the canary whatever its weight.
//  3. setTraffic(split) makes that split live and returns what is live afterwards: weights may be
//     rounded up to the target's unit (SAE moves whole instances), never down. Applying the same
//     split again changes nothing and succeeds. A route on a target without that kind of routing
//     (capabilities.routes) is refused with a permanent error and nothing changes.
//  4. promote(version) leaves `version` alone serving everything (stable = version, no canary, no
//     route); rollback(previous) restores exactly the split `previous` (read by traffic() before
//     the release began), canary and route included. Both are idempotent.
//  5. metrics(version, window) gives that version's figures over the window, or undefined when the
//     target keeps none (capabilities.metrics false). A window without requests gives requests 0,
//     never invented figures.
//  6. versions() lists published versions, newest first; deleteVersion removes one that serves no
//     traffic and refuses (permanent error, nothing deleted) one that does. Deleting a version
//     that is already gone succeeds.
//  7. Failures are ProviderErrors: retryable when the same call may succeed later (throttling, 5xx,
//     network, an update still in progress), with the wait the service asked for; permanent when
//     the configuration or the request is wrong (fault "user") or the service refused it.
//  8. close() releases clients and timers; the target keeps serving.

/** Requests that match reach the canary whatever its weight (A/B by header or cookie). */
export interface TrafficRoute {
  header?: { name: string; value: string };
  cookie?: { name: string; value: string };
}

export interface TrafficSplit {
  /** The version serving everything not sent to the canary; null when nothing is deployed yet. */
  stable: string | null;
  canary?: { version: string; weight: number };
  route?: TrafficRoute;
}

/** What one release publishes. */
export interface ReleaseArtifact {
  /** Files on this machine: a directory, or one file (an FC code zip). Absent for image or package URL releases. */
  path?: string;
  /** Container image (FC custom container, SAE image application). */
  image?: string;
  /** SAE package application: where SAE downloads the package, and its version label. */
  packageUrl?: string;
  packageVersion?: string;
  /** Identity of the content (sha256 hex over the files, or of the image/package reference). */
  digest: string;
  /** Shown on the target beside the version: "gust acme/shop #12 abc1234". */
  description: string;
}

export interface PublishedVersion {
  version: string;
  /** false when the artifact had been published before and that version was returned. */
  created: boolean;
}

export interface VersionInfo {
  version: string;
  createdAt?: Date;
  description?: string;
}

export interface MetricsWindow {
  from: Date;
  to: Date;
}

/** One version's figures over a window. Latencies are in milliseconds, undefined without requests. */
export interface VersionMetrics {
  requests: number;
  /** Responses counted as errors (5xx, connection failures, timeouts). */
  errors: number;
  latencyMs?: { p50: number; p95: number; p99: number };
}

export interface ProviderCapabilities {
  /** Kinds of A/B route the target can apply. */
  routes: Array<"header" | "cookie">;
  /** Whether metrics() returns figures (else analysis needs a Prometheus query). */
  metrics: boolean;
}

export interface DeployProvider {
  /** For people and logs, and the key that allows one release at a time: "fc cn-hangzhou/api@live". */
  readonly target: string;
  readonly capabilities: ProviderCapabilities;
  publish(artifact: ReleaseArtifact): Promise<PublishedVersion>;
  traffic(): Promise<TrafficSplit>;
  setTraffic(split: TrafficSplit): Promise<TrafficSplit>;
  promote(version: string): Promise<TrafficSplit>;
  rollback(previous: TrafficSplit): Promise<TrafficSplit>;
  metrics(version: string, window: MetricsWindow): Promise<VersionMetrics | undefined>;
  versions(): Promise<VersionInfo[]>;
  deleteVersion(version: string): Promise<void>;
  close(): Promise<void>;
}

/** Whether two splits are the same (routes compared by value). */
export function sameSplit(a: TrafficSplit, b: TrafficSplit): boolean {
  return (
    a.stable === b.stable &&
    a.canary?.version === b.canary?.version &&
    (a.canary?.weight ?? 0) === (b.canary?.weight ?? 0) &&
    JSON.stringify(a.route ?? null) === JSON.stringify(b.route ?? null)
  );
}

/** A split without empty parts: no canary at weight 0 without a route, no empty route. */
export function normalizeSplit(split: TrafficSplit): TrafficSplit {
  const route = split.route && (split.route.header || split.route.cookie) ? split.route : undefined;
  const canary = split.canary && (split.canary.weight > 0 || route) && split.canary.version !== split.stable ? split.canary : undefined;
  return { stable: split.stable, ...(canary ? { canary } : {}), ...(canary && route ? { route } : {}) };
}
