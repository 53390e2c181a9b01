// Names for a release target: what people read, and the key that allows one release per alias.
import type { ReleaseTarget } from "./model";

/** "fc cn-hangzhou/api@live", "sae cn-hangzhou/<app-id>", "local :8080". */
export function releaseTargetName(target: ReleaseTarget): string {
  switch (target.type) {
    case "fc":
      return `fc ${target.region}/${target.function}@${target.alias}`;
    case "sae":
      return `sae ${target.region}/${target.appId}`;
    case "local":
      return `local :${target.port}`;
  }
}

/** The release job's display name (its check run on the forge). */
export function releaseJobName(target: ReleaseTarget): string {
  return `release to ${releaseTargetName(target)}`;
}

export const RELEASE_JOB_KEY = "release";
