// After a promotion: delete the target's oldest versions beyond `keep`, never one that serves
// traffic or one the release protects.
import type { DeployProvider, VersionInfo } from "./deploy-provider";

/** Which versions to delete: the listed ones past the newest `keep`, minus the protected. Pure. */
export function versionsToDelete(versions: readonly VersionInfo[], keep: number, protect: ReadonlySet<string>): string[] {
  return versions
    .slice(keep)
    .map((entry) => entry.version)
    .filter((version) => !protect.has(version));
}

/** Deletes the versions versionsToDelete names; returns them. */
export async function pruneVersions(provider: DeployProvider, keep: number, protect: readonly string[]): Promise<string[]> {
  const live = await provider.traffic();
  const serving = [live.stable, live.canary?.version].filter((version): version is string => typeof version === "string");
  const doomed = versionsToDelete(await provider.versions(), keep, new Set([...protect, ...serving]));
  for (const version of doomed) await provider.deleteVersion(version);
  return doomed;
}
