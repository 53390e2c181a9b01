// Pure decisions about an FC target: its name, the function settings Gust asks for, how a version
// is marked with the artifact's digest (FC keeps nothing else Gust could find it by after a restart).
import { ProviderError } from "../../errors";
import type { ReleaseTarget } from "../../pipeline/model";
import type { ReleaseArtifact, VersionInfo } from "../deploy-provider";

export type FcTarget = Extract<ReleaseTarget, { type: "fc" }>;

/** FC's limit on a version's description. */
export const DESCRIPTION_MAX = 256;
/** Runtimes whose handler FC does not call (a custom runtime's bootstrap or a container serves HTTP itself). */
const HANDLERLESS = /^custom/;
const PLACEHOLDER_HANDLER = "index.handler";
export const CUSTOM_CONTAINER = "custom-container";

export function fcTargetName(target: FcTarget): string {
  return `fc ${target.region}/${target.function}@${target.alias}`;
}

export function digestMarker(digest: string): string {
  return `[gust:${digest.slice(0, 16)}]`;
}

/** `<description> [gust:<digest>]`, the description shortened so the marker always fits. */
export function versionDescription(artifact: ReleaseArtifact): string {
  const marker = digestMarker(artifact.digest);
  const room = DESCRIPTION_MAX - marker.length - 1;
  const text = artifact.description.trim();
  const shown = text.length > room ? `${text.slice(0, room - 1)}…` : text;
  return shown === "" ? marker : `${shown} ${marker}`;
}

/** The version already published for this digest, if any. */
export function findPublished(versions: VersionInfo[], digest: string): VersionInfo | undefined {
  const marker = digestMarker(digest);
  return versions.find((version) => version.description?.includes(marker));
}

export interface FcCode {
  /** Base64 of the code zip. */
  zipFile?: string;
  /** Container image (custom-container runtime). */
  image?: string;
}

/** The fields of CreateFunctionInput / UpdateFunctionInput that Gust sets. */
export interface FcFunctionSettings {
  runtime: string;
  handler: string;
  memorySize?: number;
  cpu?: number;
  /** Seconds. */
  timeout?: number;
  instanceConcurrency?: number;
  environmentVariables: Record<string, string>;
  code?: { zipFile: string };
  customContainerConfig?: { image: string };
}

function userError(message: string, code: string): ProviderError {
  return new ProviderError(message, { retryable: false, code, fault: "user" });
}

/** What the function should look like for `code`; refuses settings FC would refuse, naming the field. */
export function functionSettings(target: FcTarget, code: FcCode): FcFunctionSettings {
  const runtime = target.runtime ?? (code.image ? CUSTOM_CONTAINER : undefined);
  if (!runtime) {
    throw userError(`release.target.runtime is required to create FC function ${target.function} from code (e.g. nodejs20, python3.10, custom.debian10)`, "runtime_missing");
  }
  if (code.image && runtime !== CUSTOM_CONTAINER) {
    throw userError(`release.target.runtime is ${runtime}, but an image is deployed: FC runs images only with runtime ${CUSTOM_CONTAINER}`, "runtime_mismatch");
  }
  if (!code.image && runtime === CUSTOM_CONTAINER) {
    throw userError(`release.target.runtime ${CUSTOM_CONTAINER} needs release.target.image`, "image_missing");
  }
  const handler = target.handler ?? (HANDLERLESS.test(runtime) ? PLACEHOLDER_HANDLER : undefined);
  if (!handler) throw userError(`release.target.handler is required for FC runtime ${runtime} (e.g. index.handler)`, "handler_missing");
  const settings: FcFunctionSettings = { runtime, handler, environmentVariables: { ...target.env } };
  if (target.memoryMb !== undefined) settings.memorySize = target.memoryMb;
  if (target.cpu !== undefined) settings.cpu = target.cpu;
  if (target.timeoutMs !== undefined) settings.timeout = Math.max(1, Math.ceil(target.timeoutMs / 1000));
  if (target.instanceConcurrency !== undefined) settings.instanceConcurrency = target.instanceConcurrency;
  if (code.image) settings.customContainerConfig = { image: code.image };
  else if (code.zipFile !== undefined) settings.code = { zipFile: code.zipFile };
  return settings;
}
