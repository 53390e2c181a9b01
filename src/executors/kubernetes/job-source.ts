// Where the pod gets the job's workspace from: a repository a pod can reach is cloned inside the
// pod (by gust-prepare); a path on Gust's own machine (a local repository, a directory) is not
// reachable from a pod, so the pod downloads it as a tar from Gust's runner API instead.
import type { JobRun, WorkspaceSource } from "../executor";

export type PodSource =
  | {
      kind: "git";
      url: string;
      commit: string;
      ref?: string;
      depth: number;
      submodules: boolean;
      /** Only ever written into the job's Secret (runner.json), never into the pod. */
      auth?: { username: string; password: string };
    }
  | { kind: "archive" };

export interface PodSourceOptions {
  auth?: { username: string; password: string };
  submodules?: boolean;
}

export function podSourceFor(workspace: WorkspaceSource, commit: JobRun["commit"], options: PodSourceOptions = {}): PodSource {
  if (workspace.kind !== "git" || !isRemoteRepository(workspace.repository)) return { kind: "archive" };
  return {
    kind: "git",
    url: workspace.repository,
    commit: workspace.commit || commit.sha,
    ...(commit.ref ? { ref: commit.ref } : {}),
    depth: 1,
    submodules: options.submodules ?? false,
    ...(options.auth ? { auth: options.auth } : {}),
  };
}

/**
 * Whether git in a pod can fetch `repository`: an http(s)://, ssh:// or git:// URL, or scp-like
 * `user@host:path` (git's rule: a colon before the first slash). `file://` and paths name Gust's
 * machine, which the pod cannot see.
 */
export function isRemoteRepository(repository: string): boolean {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(repository)?.[1]?.toLowerCase();
  if (scheme !== undefined) return ["http", "https", "ssh", "git", "git+ssh", "ssh+git"].includes(scheme);
  const colon = repository.indexOf(":");
  const slash = repository.indexOf("/");
  return colon > 0 && (slash === -1 || colon < slash);
}
