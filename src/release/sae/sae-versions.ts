// Gust versions on SAE, pure parts. A version is what SAE itself records for a deployment, so that
// traffic() can read it back from the instances: the image URL of an image application, the package
// version label of a package application. SAE keeps no "published but not deployed" versions, so
// publish() records each version Gust published in a ConfigMap of the application's namespace (the
// ledger): one key per version, its value the artifact as JSON. versions() and deleteVersion() work
// on the ledger; SAE's own deployment history (ListAppVersions) is never deleted.
import { createHash } from "node:crypto";
import { ProviderError } from "../../errors";
import type { ReleaseArtifact, VersionInfo } from "../deploy-provider";

/** How SAE deploys one version. */
export type SaeDeployment = { version: string; imageUrl: string } | { version: string; packageUrl: string; packageVersion: string };

export interface LedgerRecord {
  version: string;
  digest: string;
  description: string;
  /** ISO time of the first publish. */
  createdAt: string;
  /** Publish order within the ledger: newest first in versions() even within one millisecond. */
  seq: number;
  deployment: SaeDeployment;
}

/** Package types that take an image (the others take a package URL and version label). */
export function isImagePackageType(packageType: string): boolean {
  return packageType === "Image" || packageType.startsWith("IMAGE_");
}

function userError(message: string, code: string): ProviderError {
  return new ProviderError(message, { retryable: false, fault: "user", code });
}

/** How SAE deploys `artifact` on an application of `packageType` (settings from the target fill gaps). */
export function deploymentOf(
  artifact: ReleaseArtifact,
  target: { appId: string; image?: string; packageUrl?: string; packageVersion?: string },
  packageType: string,
): SaeDeployment {
  const image = artifact.image ?? target.image;
  const packageUrl = artifact.packageUrl ?? target.packageUrl;
  const packageVersion = artifact.packageVersion ?? target.packageVersion;
  if (isImagePackageType(packageType)) {
    if (!image) {
      const hint = packageUrl ? " (it got a package URL: the application deploys images)" : "";
      throw userError(`SAE application ${target.appId} is an image application (PackageType ${packageType}): release.target.image is required${hint}`, "sae_image_required");
    }
    return { version: image, imageUrl: image };
  }
  if (image && !packageUrl) {
    throw userError(`SAE application ${target.appId} deploys ${packageType} packages, not images: set release.target.package-url and package-version instead of image`, "sae_package_required");
  }
  if (!packageUrl || !packageVersion) {
    const missing = !packageUrl ? "package-url" : "package-version";
    const local = artifact.path && !packageUrl ? " (SAE downloads packages from a URL: upload the built file, e.g. to OSS, and give its URL)" : "";
    throw userError(`SAE application ${target.appId} (PackageType ${packageType}) needs release.target.${missing}${local}`, "sae_package_required");
  }
  return { version: packageVersion, packageUrl, packageVersion };
}

/** The ConfigMap holding an application's ledger (SAE ConfigMap names: letters and digits, a letter first). */
export function ledgerName(appId: string): string {
  return `gustversions${appId.replace(/[^A-Za-z0-9]/g, "").toLowerCase()}`.slice(0, 63);
}

/** A version's key in the ledger: image URLs hold characters a ConfigMap key may not. */
export function ledgerKey(version: string): string {
  return `v${createHash("sha256").update(version).digest("hex").slice(0, 20)}`;
}

function isRecord(value: unknown): value is LedgerRecord {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Partial<LedgerRecord>;
  return typeof record.version === "string" && typeof record.digest === "string" && typeof record.seq === "number" && typeof record.deployment === "object";
}

/** The ledger's records, newest first; entries someone else put in the ConfigMap are skipped. */
export function readLedger(data: Record<string, unknown>): LedgerRecord[] {
  const records: LedgerRecord[] = [];
  for (const [key, raw] of Object.entries(data)) {
    if (typeof raw !== "string") continue;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (isRecord(parsed) && ledgerKey(parsed.version) === key) records.push(parsed);
    } catch {
      // Not a Gust entry.
    }
  }
  return records.sort((a, b) => b.seq - a.seq);
}

/** The ConfigMap data with `record` added (its seq after every record there). */
export function ledgerWith(data: Record<string, unknown>, record: Omit<LedgerRecord, "seq">): { data: Record<string, string>; record: LedgerRecord } {
  const seq = Math.max(0, ...readLedger(data).map((entry) => entry.seq)) + 1;
  const full: LedgerRecord = { ...record, seq };
  return { data: { ...stringEntries(data), [ledgerKey(record.version)]: JSON.stringify(full) }, record: full };
}

export function ledgerWithout(data: Record<string, unknown>, version: string): Record<string, string> {
  const rest = stringEntries(data);
  delete rest[ledgerKey(version)];
  return rest;
}

function stringEntries(data: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(data).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}

export function versionInfo(record: LedgerRecord): VersionInfo {
  return { version: record.version, createdAt: new Date(record.createdAt), description: record.description };
}
