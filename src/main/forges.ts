// Which Forge serves a repository, built from its stored (sealed) credentials, and where its code
// is cloned from. Cached per repository; main/ is the only place that knows the implementations.
import { INTERNAL_FORGE, normalizeInternalEvent } from "../app/internal-events";
import type { WorkspaceSource } from "../executors/executor";
import type { Forge, NormalizedEvent } from "../forges";
import { GithubForge, normalizeGithubEvent, type GithubCredentials } from "../forges/github";
import { GitlabForge, normalizeGitlabEvent } from "../forges/gitlab";
import { LocalForge } from "../forges/local";
import { InputError } from "../errors";
import type { RepositoriesStore } from "../store";

export interface StoredRepository {
  id: number;
  forge: string;
  fullName: string;
  apiUrl: string | null;
  settings?: unknown;
}

/** Credentials as `gust repo add` stores them (sealed). */
export type RepositoryCredentials = { token: string } | { appId: number | string; privateKey: string };

export class Forges {
  private readonly cache = new Map<number, Forge>();
  private readonly local: LocalForge;

  constructor(
    private readonly repositories: Pick<RepositoriesStore, "credentials">,
    log: (line: string) => void,
  ) {
    this.local = new LocalForge({ log });
  }

  async forgeFor(repository: StoredRepository): Promise<Forge> {
    const cached = this.cache.get(repository.id);
    if (cached) return cached;
    const forge = await this.build(repository);
    this.cache.set(repository.id, forge);
    return forge;
  }

  /** After credentials changed. */
  forget(repositoryId: number): void {
    this.cache.delete(repositoryId);
  }

  private async build(repository: StoredRepository): Promise<Forge> {
    if (repository.forge === "local") return this.local;
    const credentials = (await this.repositories.credentials(repository.id)) as RepositoryCredentials | null | undefined;
    if (!credentials) throw new InputError(`repository ${repository.fullName} has no credentials (gust repo add ${repository.forge} … --token)`, "no_credentials");
    if (repository.forge === "github") {
      return new GithubForge({ credentials: credentials as GithubCredentials, ...(repository.apiUrl ? { baseUrl: repository.apiUrl } : {}) });
    }
    if (repository.forge === "gitlab") {
      if (!("token" in credentials)) throw new InputError(`repository ${repository.fullName}: GitLab needs a token`, "no_credentials");
      return new GitlabForge({ token: credentials.token, ...(repository.apiUrl ? { host: repository.apiUrl } : {}) });
    }
    throw new InputError(`unknown forge '${repository.forge}'`, "unknown_forge");
  }
}

export function normalizeEvent(forge: string, event: string, payload: unknown): NormalizedEvent {
  switch (forge) {
    case "github":
      return normalizeGithubEvent(event, payload);
    case "gitlab":
      return normalizeGitlabEvent(event, payload);
    case INTERNAL_FORGE:
      return normalizeInternalEvent(event, payload);
    default:
      return { kind: "ignored", reason: `no webhooks for forge '${forge}'` };
  }
}

/**
 * HTTP clone credentials from a repository's stored token (GitHub: x-access-token, GitLab: oauth2),
 * for pods that clone over HTTPS. A GitHub App's installation token is not minted here.
 */
export function cloneAuthFor(forge: string, credentials: unknown): { username: string; password: string } | undefined {
  const token = (credentials as { token?: unknown } | null)?.token;
  if (typeof token !== "string" || token === "") return undefined;
  if (forge === "github") return { username: "x-access-token", password: token };
  if (forge === "gitlab") return { username: "oauth2", password: token };
  return undefined;
}

/**
 * Where a job's workspace is cloned from: the path of a local repository, or the repository's
 * clone URL (settings.cloneUrl, else the forge's usual one).
 */
export function workspaceFor(repository: StoredRepository, sha: string): WorkspaceSource {
  const settings = (repository.settings ?? {}) as { cloneUrl?: string };
  if (repository.forge === "local") return { kind: "git", repository: repository.fullName, commit: sha };
  const host = repository.forge === "gitlab" ? (repository.apiUrl ?? "https://gitlab.com").replace(/\/api\/v4\/?$/, "") : "https://github.com";
  return { kind: "git", repository: settings.cloneUrl ?? `${host}/${repository.fullName}.git`, commit: sha };
}
