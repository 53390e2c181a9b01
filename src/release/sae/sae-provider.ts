// DeployProvider for one Serverless App Engine application.
//
// How Gust's model maps onto SAE (details in ./README.md):
// - Version: what SAE records for a deployment, so it can be read back from the running instances:
//   the image URL of an image application, the package version label of a package application.
//   publish() deploys nothing (SAE deploys only when traffic moves): it checks the application exists
//   and takes this kind of artifact, and records the version in Gust's ledger, a ConfigMap in the
//   application's namespace (sae-versions.ts). Same artifact → same version, created false, also
//   after a restart; versions() and deleteVersion() work on the ledger and never touch SAE's own
//   deployment history (SAE has no call to delete an application version).
// - Weight: SAE's gray unit is an instance. With N replicas a canary weight w puts
//   k = ceil(w·N/100) instances (at least 1) on the new version and reports k/N·100, never less than
//   asked. A canary starts DeployApplication with a gray batch of min(k, N/2) instances (SAE allows at
//   most half) and one instance per later manual batch; ConfirmPipelineBatch moves one more instance
//   at a time until k run the new version. A weight needing all N instances is the new version
//   serving alone (the change order completes): on a 2-instance application every weight above 50%
//   promotes, and a 1-instance application cannot run a canary at all (any weight deploys fully).
//   A lower weight than live means aborting the change order and starting a smaller one.
// - promote(v): confirm every remaining batch until the change order succeeds (or deploy v fully).
//   rollback(previous): AbortAndRollbackChangeOrder while a change order runs; after one finished,
//   RollbackApplication to the SAE version that served previous.stable (ListAppVersions); then the
//   canary and route of `previous`, if it had them.
// - Stateless: every call reads the application back (configuration, instances, newest change order,
//   grey tag route) and decides its next SAE call with the pure nextStep (sae-plan.ts), so a restart
//   of Gust at any point carries on. A call waits for change orders up to waitTimeoutMs, then fails
//   retryably ("still in progress") and the next call takes over from what SAE shows.
// - Routes: grey tag routes, only when the operator names the gateway that honours them
//   (greyTagRoutes); otherwise a route is refused permanently. No metrics (analysis uses Prometheus).
import { setTimeout as sleep } from "node:timers/promises";
import { ProviderError } from "../../errors";
import type { ReleaseTarget } from "../../pipeline/model";
import type { AlicloudCredentials } from "../alicloud-client";
import { normalizeSplit, type DeployProvider, type MetricsWindow, type ProviderCapabilities, type PublishedVersion, type ReleaseArtifact, type TrafficRoute, type TrafficSplit, type VersionInfo, type VersionMetrics } from "../deploy-provider";
import { SaeApi, type AppConfig } from "./sae-api";
import { SaeClient } from "./sae-client";
import { GREY_TAG_ROUTE_NAME, greyTagRules, orderedRoute, type GreyTagRouteGateway } from "./sae-grey-route";
import { SaeLedgerStore } from "./sae-ledger-store";
import { observe, type Observation } from "./sae-observe";
import { failure, goalOf, grayStrategy, isActive, nextStep, splitOf, type Goal, type Step } from "./sae-plan";
import { deploymentOf, isImagePackageType, versionInfo, type LedgerRecord } from "./sae-versions";

export interface SaeProviderOptions {
  target: Extract<ReleaseTarget, { type: "sae" }>;
  /** API host, or a URL; `{region}` is replaced. Default sae.<region>.aliyuncs.com. */
  endpoint?: string;
  /** Default https (or the endpoint URL's scheme); http only for loopback stand-ins. */
  protocol?: "http" | "https";
  /** Absent: the default credential chain (environment, RRSA in a pod, CLI profile, ECS RAM role). */
  credentials?: AlicloudCredentials;
  /** Between two looks at a running change order. Default 2 s. */
  pollIntervalMs?: number;
  /** How long one call follows change orders before failing retryably. Default 10 minutes. */
  waitTimeoutMs?: number;
  /** The gateway that honours SAE grey tag routes for this application; absent: no A/B routes. */
  greyTagRoutes?: GreyTagRouteGateway;
}

/** Changes one call may start (deploy, abort) before it stops: the goal would need SAE to behave otherwise. */
const MAX_STARTS = 6;

export class SaeProvider implements DeployProvider {
  readonly target: string;
  readonly capabilities: ProviderCapabilities;
  private readonly api: SaeApi;
  private readonly ledger: SaeLedgerStore;
  private readonly appId: string;
  private readonly pollIntervalMs: number;
  private readonly waitTimeoutMs: number;
  private readonly closing = new AbortController();

  constructor(private readonly options: SaeProviderOptions) {
    const { target } = options;
    this.appId = target.appId;
    this.target = `sae ${target.region}/${target.appId}`;
    this.capabilities = { routes: options.greyTagRoutes ? ["header", "cookie"] : [], metrics: false };
    this.pollIntervalMs = options.pollIntervalMs ?? 2_000;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 10 * 60_000;
    const { host, protocol } = endpointOf(options.endpoint ?? "sae.{region}.aliyuncs.com", target.region, options.protocol);
    this.api = new SaeApi(new SaeClient({ region: target.region, endpoint: host, protocol, ...(options.credentials ? { credentials: options.credentials } : {}) }));
    this.ledger = new SaeLedgerStore(this.api, this.appId);
  }

  async publish(artifact: ReleaseArtifact): Promise<PublishedVersion> {
    const config = await this.api.describeConfig(this.appId);
    const deployment = deploymentOf(artifact, this.options.target, config.packageType);
    const { record, created } = await this.ledger.add(config.namespaceId, {
      version: deployment.version,
      digest: artifact.digest,
      description: artifact.description,
      createdAt: new Date().toISOString(),
      deployment,
    });
    if (record.digest !== artifact.digest) {
      const kind = "imageUrl" in deployment ? "image" : "package version";
      throw new ProviderError(`${this.target}: ${kind} ${deployment.version} was published before with other content: SAE tells deployments apart by the ${kind}, so give this build its own`, { retryable: false, fault: "user", code: "sae_version_reused" });
    }
    return { version: record.version, created };
  }

  async traffic(): Promise<TrafficSplit> {
    return normalizeSplit(splitOf((await this.look()).view));
  }

  async setTraffic(split: TrafficSplit): Promise<TrafficSplit> {
    return this.converge(this.checkRoute(normalizeSplit(split)), false);
  }

  async promote(version: string): Promise<TrafficSplit> {
    return this.converge({ stable: version }, false);
  }

  async rollback(previous: TrafficSplit): Promise<TrafficSplit> {
    return this.converge(this.checkRoute(normalizeSplit(previous)), true);
  }

  async metrics(_version: string, _window: MetricsWindow): Promise<VersionMetrics | undefined> {
    return undefined;
  }

  async versions(): Promise<VersionInfo[]> {
    const config = await this.api.describeConfig(this.appId);
    return (await this.ledger.records(config.namespaceId)).map(versionInfo);
  }

  async deleteVersion(version: string): Promise<void> {
    const { config, view } = await this.look();
    const live = splitOf(view);
    if (live.stable === version || live.canary?.version === version || view.configured === version) {
      throw new ProviderError(`${this.target}: version ${version} serves traffic and cannot be deleted`, { retryable: false, code: "version_serving" });
    }
    await this.ledger.remove(config.namespaceId, version);
  }

  async close(): Promise<void> {
    this.closing.abort();
  }

  private look(followed?: string): Promise<Observation> {
    return observe(this.api, this.appId, { routes: this.options.greyTagRoutes !== undefined, ...(followed ? { followed } : {}) });
  }

  private checkRoute(split: TrafficSplit): TrafficSplit {
    if (!split.route) return split;
    const kinds = (["header", "cookie"] as const).filter((kind) => split.route?.[kind]);
    const missing = kinds.filter((kind) => !this.capabilities.routes.includes(kind));
    if (missing.length > 0) {
      throw new ProviderError(`${this.target} cannot route by ${missing.join(" or ")}: SAE grey tag routes need an ALB ingress or a Spring Cloud application, and none is configured for this target`, { retryable: false, fault: "user", code: "route_unsupported" });
    }
    return { ...split, route: orderedRoute(split.route) };
  }

  /**
   * Calls SAE until the application serves `split` (see the module comment), then reads it back.
   * `restoring`: going back to what served before, so SAE's own rollback is preferred.
   */
  private async converge(split: TrafficSplit, restoring: boolean): Promise<TrafficSplit> {
    const deadline = Date.now() + this.waitTimeoutMs;
    let goal: Goal | undefined;
    let followed: string | undefined;
    let confirmed: string | undefined;
    let starts = 0;
    for (;;) {
      if (this.closing.signal.aborted) throw new ProviderError(`${this.target}: the provider was closed`, { retryable: true, code: "provider_closed" });
      const seen = await this.look(followed);
      const { view } = seen;
      if (followed && view.order?.id === followed && (view.order.phase === "failed" || view.order.phase === "terminated")) {
        throw new ProviderError(`${this.target}: ${failure(view.order)}`, { retryable: false, code: "sae_change_order_failed" });
      }
      if (split.stable === null && !split.canary) {
        if (splitOf(view).stable === null) return { stable: null };
        throw new ProviderError(`${this.target}: SAE cannot go back to serving nothing; promote or roll back to a version`, { retryable: false, fault: "user", code: "sae_cannot_undeploy" });
      }
      goal ??= goalOf(split, view.replicas);
      let step: Step = nextStep(view, goal);
      // SAE moves on a confirmation a moment later: do not confirm the same batch twice.
      if (step.kind === "confirm" && step.pipelineId === confirmed) step = { kind: "wait" };
      switch (step.kind) {
        case "done":
          return normalizeSplit(splitOf(view));
        case "fail":
          throw new ProviderError(`${this.target}: ${step.message}`, { retryable: false, code: "sae_change_order_failed" });
        case "wait":
          if (Date.now() >= deadline) {
            const order = view.order && isActive(view.order.phase) ? ` (change order ${view.order.id})` : "";
            throw new ProviderError(`${this.target}: SAE is still changing the application${order}; the next call carries on`, { retryable: true, code: "sae_in_progress", retryAfterMs: this.pollIntervalMs });
          }
          await this.pause();
          continue;
        case "confirm":
          await this.api.confirm(step.pipelineId);
          confirmed = step.pipelineId;
          await this.pause();
          continue;
        case "abort": {
          // The rollback may run as a new change order, or as the aborted one ending "terminated".
          const next = await this.api.abortAndRollback(step.changeOrderId);
          followed = next === step.changeOrderId ? undefined : next;
          break;
        }
        case "deploy":
          // The stable version of a canary goal is an older one too: restore it the same way.
          followed = await this.deploy(seen.config, step, restoring || step.version !== goal.version);
          break;
        case "set-route":
          await this.putRoute(step.route, seen.routeId);
          continue;
        case "delete-route":
          if (seen.routeId !== undefined) await this.api.deleteGreyTagRoute(seen.routeId);
          continue;
      }
      starts += 1;
      if (starts > MAX_STARTS) {
        throw new ProviderError(`${this.target}: SAE did not reach ${JSON.stringify(split)} after ${MAX_STARTS} change orders`, { retryable: false, code: "sae_not_converging" });
      }
      await this.pause();
    }
  }

  private async pause(): Promise<void> {
    try {
      await sleep(this.pollIntervalMs, undefined, { signal: this.closing.signal });
    } catch {
      throw new ProviderError(`${this.target}: the provider was closed`, { retryable: true, code: "provider_closed" });
    }
  }

  /**
   * Starts the change order a deploy step asks for; gives its id. A version Gust published is
   * deployed from its ledger record; going back (`restore`), or to a version only SAE knows, uses
   * SAE's RollbackApplication to the deployment that installed it, which restores that deployment's
   * configuration as it was (it cannot enable a grey tag route).
   */
  private async deploy(config: AppConfig, step: Extract<Step, { kind: "deploy" }>, restore: boolean): Promise<string> {
    const strategy = step.instances === undefined ? undefined : grayStrategy(step.instances, config.replicas);
    const common = { AppId: this.appId, UpdateStrategy: strategy?.json, MinReadyInstances: this.options.target.minReadyInstances };
    const record = (await this.ledger.records(config.namespaceId)).find((entry) => entry.version === step.version);
    if (!step.greyTagRoute && (restore || !record)) {
      const versionId = await this.saeVersionId(config, step.version, record);
      if (versionId) return this.api.rollback({ ...common, VersionId: versionId });
    }
    if (!record) {
      throw new ProviderError(`${this.target}: version ${step.version} was neither published by Gust nor deployed on SAE before`, { retryable: false, fault: "user", code: "version_unknown" });
    }
    const { deployment } = record;
    return this.api.deploy({
      ...common,
      PackageType: config.packageType,
      ...("imageUrl" in deployment ? { ImageUrl: deployment.imageUrl } : { PackageUrl: deployment.packageUrl, PackageVersion: deployment.packageVersion }),
      EnableGreyTagRoute: step.greyTagRoute,
      ChangeOrderDesc: record.description.slice(0, 128) || undefined,
    });
  }

  /** The id of SAE's deployment history entry (ListAppVersions) that installed `version`, if any. */
  private async saeVersionId(config: AppConfig, version: string, record: LedgerRecord | undefined): Promise<string | undefined> {
    const history = await this.api.appVersions(this.appId);
    if (isImagePackageType(config.packageType)) return history.find((entry) => entry.warUrl === version)?.id;
    // The history gives package URLs only: ask each candidate's configuration for its version label.
    const url = record && "packageUrl" in record.deployment ? record.deployment.packageUrl : undefined;
    for (const entry of history.filter((candidate) => !url || candidate.warUrl === url).slice(0, 20)) {
      if ((await this.api.describeConfig(this.appId, entry.id)).packageVersion === version) return entry.id;
    }
    return undefined;
  }

  private async putRoute(route: TrafficRoute, routeId: number | undefined): Promise<void> {
    const gateway = this.options.greyTagRoutes;
    if (!gateway) return;
    const rules = greyTagRules(route, gateway);
    const description = "Gust canary route";
    if (routeId === undefined) await this.api.createGreyTagRoute({ AppId: this.appId, Name: GREY_TAG_ROUTE_NAME, Description: description, [rules.param]: rules.json });
    else await this.api.updateGreyTagRoute({ GreyTagRouteId: routeId, Description: description, [rules.param]: rules.json });
  }
}

/** Host and protocol from an endpoint setting: a host, a host:port, or a URL. */
export function endpointOf(endpoint: string, region: string, protocol?: "http" | "https"): { host: string; protocol: "http" | "https" } {
  const filled = endpoint.replaceAll("{region}", region);
  if (/^https?:\/\//i.test(filled)) {
    const url = new URL(filled);
    return { host: url.host, protocol: protocol ?? (url.protocol === "http:" ? "http" : "https") };
  }
  return { host: filled.replace(/\/+$/, ""), protocol: protocol ?? "https" };
}
