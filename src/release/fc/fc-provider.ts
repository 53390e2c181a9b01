// The FC 3.0 deploy provider: one function's alias. A release publishes the artifact as an immutable
// function version (found again by the digest marker in its description, so a restart publishes
// nothing twice) and moves the alias's weight between the stable version and one canary.
import { ProviderError } from "../../errors";
import { alicloudConfig, alicloudCredentialsFrom, type AlicloudCredentials } from "../alicloud-client";
import type {
  DeployProvider,
  MetricsWindow,
  ProviderCapabilities,
  PublishedVersion,
  ReleaseArtifact,
  TrafficSplit,
  VersionInfo,
  VersionMetrics,
} from "../deploy-provider";
import { codePackage } from "./code-package";
import type { FcApi } from "./fc-api";
import { fcTargetName, findPublished, functionSettings, versionDescription, type FcCode, type FcTarget } from "./fc-settings";
import { aliasFromSplit, refuseUnsupported, splitFromAlias } from "./fc-traffic";
import { SdkFcApi } from "./sdk-fc-api";

export interface FcProviderOptions {
  target: FcTarget;
  /** API host[:port]; default fcv3.<region>.aliyuncs.com. */
  endpoint?: string;
  /** "https" (default); "http" for a loopback stand-in. */
  protocol?: "http" | "https";
  /** Absent: the default credential chain. */
  credentials?: AlicloudCredentials;
  /** Between two reads of lastUpdateStatus after a create or update. Default 1 s. */
  pollIntervalMs?: number;
  /** An update still InProgress after this long fails retryably (the next attempt waits again). Default 5 min. */
  updateTimeoutMs?: number;
  /** Largest base64 code package sent inline; FC's API takes about 100 MB. */
  maxInlineCodeBytes?: number;
  /** Another transport for the same calls; default the official SDK. */
  api?: FcApi;
}

/** Gust's settings an FC provider reads (the GustConfig fields of the same names). */
export interface FcProviderSettings {
  alicloudAccessKeyId?: string | undefined;
  alicloudAccessKeySecret?: string | undefined;
  /** May contain `{region}`. */
  fcEndpoint?: string | undefined;
  alicloudProtocol?: "http" | "https" | undefined;
}

const DEFAULT_MAX_INLINE = 100 * 1024 * 1024;

export function fcEndpointFor(region: string, override?: string): string {
  return override ? override.replaceAll("{region}", region) : `fcv3.${region}.aliyuncs.com`;
}

/** The provider for a pipeline's fc target, configured from Gust's settings. */
export function createFcProvider(target: FcTarget, settings: FcProviderSettings): FcProvider {
  const credentials = alicloudCredentialsFrom(settings);
  return new FcProvider({
    target,
    endpoint: fcEndpointFor(target.region, settings.fcEndpoint),
    ...(settings.alicloudProtocol ? { protocol: settings.alicloudProtocol } : {}),
    ...(credentials ? { credentials } : {}),
  });
}

export class FcProvider implements DeployProvider {
  readonly target: string;
  /** FC 3.0 aliases split by weight only (header routing is unverified); FC keeps no per-version figures Gust reads. */
  readonly capabilities: ProviderCapabilities = { routes: [], metrics: false };
  private readonly settings: FcTarget;
  private readonly api: FcApi;
  private readonly pollIntervalMs: number;
  private readonly updateTimeoutMs: number;
  private readonly maxInlineCodeBytes: number;
  private readonly closing = new AbortController();

  constructor(options: FcProviderOptions) {
    this.settings = options.target;
    this.target = fcTargetName(options.target);
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.updateTimeoutMs = options.updateTimeoutMs ?? 300_000;
    this.maxInlineCodeBytes = options.maxInlineCodeBytes ?? DEFAULT_MAX_INLINE;
    this.api =
      options.api ??
      new SdkFcApi(
        alicloudConfig({
          region: options.target.region,
          endpoint: options.endpoint ?? fcEndpointFor(options.target.region),
          // A create or update carries up to about 100 MB of code in its body.
          readTimeoutMs: 120_000,
          ...(options.protocol ? { protocol: options.protocol } : {}),
          ...(options.credentials ? { credentials: options.credentials } : {}),
        }),
      );
  }

  private get functionName(): string {
    return this.settings.function;
  }

  async publish(artifact: ReleaseArtifact): Promise<PublishedVersion> {
    const name = this.functionName;
    const existing = findPublished(await this.api.listVersions(name), artifact.digest);
    if (existing) return { version: existing.version, created: false };

    const settings = functionSettings(this.settings, await this.code(artifact));
    const exists = (await this.api.getFunction(name)) !== undefined || (await this.api.createFunction(name, settings)) === "exists";
    if (exists) {
      // FC refuses an update while the previous one is still being applied.
      await this.waitForUpdate(name);
      await this.api.updateFunction(name, settings);
    }
    await this.waitForUpdate(name);

    const published = await this.api.publishVersion(name, versionDescription(artifact));
    if (published !== "unchanged") return { version: published.version, created: true };
    // The function's code and settings are those of the latest version already (published by
    // other means, or for another digest with the same content): that version is this artifact.
    const latest = (await this.api.listVersions(name))[0];
    if (!latest) {
      throw new ProviderError(`FC said nothing changed since the last publish of ${name}, but lists no version`, { retryable: true, code: "publish_inconsistent" });
    }
    return { version: latest.version, created: false };
  }

  async traffic(): Promise<TrafficSplit> {
    return splitFromAlias(await this.api.getAlias(this.functionName, this.settings.alias));
  }

  async setTraffic(split: TrafficSplit): Promise<TrafficSplit> {
    refuseUnsupported(split);
    const name = this.functionName;
    const alias = this.settings.alias;
    if (split.stable === null) {
      // Nothing served through the alias: it did not exist before the release.
      await this.api.deleteAlias(name, alias);
      return { stable: null };
    }
    const value = aliasFromSplit({ ...split, stable: split.stable });
    let live = await this.api.updateAlias(name, alias, value);
    if (live === "missing") {
      const created = await this.api.createAlias(name, alias, value);
      // Created by someone else in between: update what is there now.
      live = created === "exists" ? await this.api.updateAlias(name, alias, value) : created;
    }
    if (live === "missing") {
      throw new ProviderError(`alias ${alias} of FC function ${name} was deleted while Gust was setting it`, { retryable: true, code: "alias_race" });
    }
    return splitFromAlias(live === "unchanged" ? value : live);
  }

  promote(version: string): Promise<TrafficSplit> {
    return this.setTraffic({ stable: version });
  }

  rollback(previous: TrafficSplit): Promise<TrafficSplit> {
    return this.setTraffic(previous);
  }

  async metrics(_version: string, _window: MetricsWindow): Promise<VersionMetrics | undefined> {
    return undefined;
  }

  versions(): Promise<VersionInfo[]> {
    return this.api.listVersions(this.functionName);
  }

  async deleteVersion(version: string): Promise<void> {
    // FC refuses too (for any alias); checking Gust's own alias first gives the clearer message.
    const live = await this.traffic();
    if (live.stable === version || live.canary?.version === version) {
      throw new ProviderError(`version ${version} of FC function ${this.functionName} serves traffic through alias ${this.settings.alias}; it is not deleted`, {
        retryable: false,
        code: "version_serving",
      });
    }
    await this.api.deleteVersion(this.functionName, version);
  }

  async close(): Promise<void> {
    this.closing.abort();
  }

  private async code(artifact: ReleaseArtifact): Promise<FcCode> {
    if (artifact.image) return { image: artifact.image };
    if (!artifact.path) {
      throw new ProviderError(`an FC release needs a code artifact (a directory or .zip) or an image; ${artifact.description} has neither`, {
        retryable: false,
        code: "artifact_missing",
        fault: "user",
      });
    }
    const zipFile = (await codePackage(artifact.path)).toString("base64");
    if (zipFile.length > this.maxInlineCodeBytes) {
      const size = `${(zipFile.length / 1024 / 1024).toFixed(1)} MB in base64`;
      const limit = `${(this.maxInlineCodeBytes / 1024 / 1024).toFixed(0)} MB`;
      const message = this.settings.ossBucket
        ? `the code package is ${size}, over the ${limit} FC accepts inline; uploading it through OSS bucket ${this.settings.ossBucket} (release.target.oss-bucket) is not built into Gust yet`
        : `the code package is ${size}, over the ${limit} FC accepts inline; make the artifact smaller or deploy an image`;
      throw new ProviderError(message, { retryable: false, code: "code_too_large", fault: "user" });
    }
    return { zipFile };
  }

  /** Waits until the function's last create or update is applied; Failed is the artifact's or settings' fault. */
  private async waitForUpdate(name: string): Promise<void> {
    const deadline = Date.now() + this.updateTimeoutMs;
    for (;;) {
      const status = await this.api.getFunction(name);
      if (!status) throw new ProviderError(`FC function ${name} disappeared during the release`, { retryable: true, code: "function_vanished" });
      if (status.lastUpdateStatus === "Failed" || status.state === "Failed") {
        const reason = status.lastUpdateStatusReason ?? status.stateReason ?? "no reason given";
        throw new ProviderError(`FC could not apply the new code or settings to ${name}: ${reason}`, { retryable: false, code: "update_failed", fault: "user" });
      }
      if (status.lastUpdateStatus !== "InProgress" && status.state !== "Pending") return;
      if (Date.now() >= deadline) {
        throw new ProviderError(`FC function ${name} is still being updated after ${Math.round(this.updateTimeoutMs / 1000)} s`, { retryable: true, code: "update_in_progress" });
      }
      await this.pause();
    }
  }

  private pause(): Promise<void> {
    const signal = this.closing.signal;
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new ProviderError("the FC provider was closed", { retryable: true, code: "provider_closed" }));
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", stop);
        resolve();
      }, this.pollIntervalMs);
      const stop = () => {
        clearTimeout(timer);
        reject(new ProviderError("the FC provider was closed", { retryable: true, code: "provider_closed" }));
      };
      signal.addEventListener("abort", stop, { once: true });
    });
  }
}
