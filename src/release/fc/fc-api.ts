// The port between the FC provider and Function Compute 3.0: the calls the provider makes, in
// Gust's terms.
//
// Contract: every failure is a ProviderError (retryable or not, as providerErrorFrom decides from
// the service's answer). Answers that are part of the normal flow are values, not errors: a missing
// function or alias is `undefined` / "missing", a name taken by a concurrent create is "exists", a
// publish or alias update that would change nothing is "unchanged", deleting what is gone resolves.
import type { VersionInfo } from "../deploy-provider";
import type { FcFunctionSettings } from "./fc-settings";
import type { FcAliasValue } from "./fc-traffic";

export interface FcFunctionStatus {
  /** InProgress, Successful or Failed: the outcome of the last create or update. */
  lastUpdateStatus?: string;
  lastUpdateStatusReason?: string;
  /** Pending, Active or Failed. */
  state?: string;
  stateReason?: string;
}

export interface FcApi {
  getFunction(name: string): Promise<FcFunctionStatus | undefined>;
  createFunction(name: string, settings: FcFunctionSettings): Promise<"created" | "exists">;
  updateFunction(name: string, settings: FcFunctionSettings): Promise<void>;
  publishVersion(name: string, description: string): Promise<VersionInfo | "unchanged">;
  /** Every version (all pages), newest first; none when the function does not exist. */
  listVersions(name: string): Promise<VersionInfo[]>;
  deleteVersion(name: string, versionId: string): Promise<void>;
  getAlias(name: string, alias: string): Promise<FcAliasValue | undefined>;
  createAlias(name: string, alias: string, value: FcAliasValue): Promise<FcAliasValue | "exists">;
  updateAlias(name: string, alias: string, value: FcAliasValue): Promise<FcAliasValue | "missing" | "unchanged">;
  deleteAlias(name: string, alias: string): Promise<void>;
}
