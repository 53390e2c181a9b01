// The DeployProvider of the local target (`local :<port>`): versions are copies of the artifact
// run as processes behind the port's router (local-port.ts does the work). Weights are applied as
// given (no unit to round to); routes by header and cookie; the router's own figures as metrics.
import type { ProviderError } from "../../errors";
import {
  normalizeSplit,
  type DeployProvider,
  type MetricsWindow,
  type ProviderCapabilities,
  type PublishedVersion,
  type ReleaseArtifact,
  type TrafficSplit,
  type VersionInfo,
  type VersionMetrics,
} from "../deploy-provider";
import { launchSettings, type LocalTarget } from "./launch-settings";
import { userError } from "./local-errors";
import type { LocalPort } from "./local-port";
import { validateSplit } from "./split-validation";

export type ProviderCall = "publish" | "traffic" | "setTraffic" | "promote" | "rollback" | "metrics" | "versions" | "deleteVersion";

/**
 * Fault injection: consulted at the start of every provider call; an error it returns is thrown
 * instead of making the call. Tests use it to make a call fail the way a busy host would
 * (contract point 7); in production it is not set.
 */
export type FaultInjector = (call: { operation: ProviderCall; port: number }) => ProviderError | undefined;

export class LocalProvider implements DeployProvider {
  readonly target: string;
  readonly capabilities: ProviderCapabilities = { routes: ["header", "cookie"], metrics: true };

  constructor(
    private readonly port: LocalPort,
    private readonly settings: LocalTarget,
    private readonly faults?: FaultInjector,
  ) {
    this.target = port.label;
  }

  async publish(artifact: ReleaseArtifact): Promise<PublishedVersion> {
    this.injected("publish");
    return this.port.publish(artifact, launchSettings(this.settings));
  }

  async traffic(): Promise<TrafficSplit> {
    this.injected("traffic");
    return this.port.traffic();
  }

  async setTraffic(split: TrafficSplit): Promise<TrafficSplit> {
    this.injected("setTraffic");
    return this.apply(split);
  }

  async promote(version: string): Promise<TrafficSplit> {
    this.injected("promote");
    return this.apply({ stable: version });
  }

  async rollback(previous: TrafficSplit): Promise<TrafficSplit> {
    this.injected("rollback");
    return this.apply(previous);
  }

  async metrics(version: string, window: MetricsWindow): Promise<VersionMetrics> {
    this.injected("metrics");
    if (!(window.from instanceof Date) || !(window.to instanceof Date) || Number.isNaN(window.from.getTime()) || Number.isNaN(window.to.getTime())) {
      throw userError("metrics window needs valid from and to dates", "local_invalid_window");
    }
    return this.port.metrics(version, window);
  }

  async versions(): Promise<VersionInfo[]> {
    this.injected("versions");
    return (await this.port.store.list()).map((manifest) => ({
      version: manifest.version,
      createdAt: new Date(manifest.createdAt),
      description: manifest.description,
    }));
  }

  async deleteVersion(version: string): Promise<void> {
    this.injected("deleteVersion");
    await this.port.deleteVersion(version);
  }

  /** The port keeps serving: it belongs to the LocalTargetHost, not to this provider. */
  async close(): Promise<void> {}

  private apply(split: TrafficSplit): Promise<TrafficSplit> {
    validateSplit(split);
    return this.port.apply(normalizeSplit(split));
  }

  private injected(operation: ProviderCall): void {
    const error = this.faults?.({ operation, port: this.port.port });
    if (error) throw error;
  }
}
