// The Forge on GitHub (or GitHub Enterprise): files through the contents, trees and blobs APIs at
// the exact commit, changed paths through compare and pull request files, reports through the
// Checks API (see ./reporter.ts).
import { ForgeError } from "../../errors";
import { pipelineFilesIn } from "../../pipeline";
import type { Forge, JobStatusUpdate, PipelineFileText, PipelineStatusUpdate, ReportReceipt, ResolvedRef, RunEvent } from "../forge";
import { isZeroSha } from "../forge";
import { shortSha } from "../http-failure";
import { notFound, parseRefQuery } from "../ref-query";
import { createGithubAuth, type GithubApi, type GithubAuth, type GithubClientOptions } from "./client";
import { githubError, githubMessage, githubStatus, type GithubFailureContext } from "./errors";
import { resolveGithubRef } from "./refs";
import { GithubReporter, type GithubWork } from "./reporter";

export type GithubForgeOptions = GithubClientOptions;

/** GitHub lists at most 300 files in a comparison and 3000 in a pull request: a full list is only known below. */
const COMPARE_FILE_LIMIT = 300;
const PULL_FILE_LIMIT = 3000;

export class GithubForge implements Forge {
  readonly kind = "github";
  private readonly auth: GithubAuth;
  private readonly reporter: GithubReporter;

  constructor(options: GithubForgeOptions) {
    this.auth = createGithubAuth(options);
    this.reporter = new GithubReporter((repo, context, work) => this.call(repo, context, work), options.log ?? (() => {}));
  }

  async readFile(repo: string, sha: string, path: string): Promise<string | undefined> {
    const context = { action: `read ${path} at ${shortSha(sha)} in ${repo}`, permission: "contents: read" };
    return this.call(repo, context, async (api, owner, name) => {
      let data;
      try {
        ({ data } = await api.rest.repos.getContent({ owner, repo: name, path, ref: sha }));
      } catch (error) {
        if (githubStatus(error) !== 404 || /no commit found/i.test(githubMessageOf(error))) throw error;
        // GitHub answers a missing file and a missing repository alike; only the file means undefined.
        await api.rest.git.getCommit({ owner, repo: name, commit_sha: sha });
        return undefined;
      }
      if (Array.isArray(data) || data.type !== "file") return undefined;
      // Files over 1 MB come without content; the blob API serves them whole.
      if ("encoding" in data && data.encoding === "base64" && typeof data.content === "string") return decodeBase64(data.content);
      return this.readBlob(api, owner, name, data.sha);
    });
  }

  async listPipelineFiles(repo: string, sha: string): Promise<PipelineFileText[]> {
    const context = { action: `list pipeline files at ${shortSha(sha)} in ${repo}`, permission: "contents: read" };
    return this.call(repo, context, async (api, owner, name) => {
      // The root tree (not recursive: one small response) says whether .gust/ exists and where.
      const root = await api.rest.git.getTree({ owner, repo: name, tree_sha: sha });
      const blobs = new Map<string, string>();
      for (const entry of root.data.tree) if (entry.type === "blob" && entry.path && entry.sha) blobs.set(entry.path, entry.sha);
      const dir = root.data.tree.find((entry) => entry.path === ".gust" && entry.type === "tree");
      if (dir?.sha) {
        const inner = await api.rest.git.getTree({ owner, repo: name, tree_sha: dir.sha });
        for (const entry of inner.data.tree) if (entry.type === "blob" && entry.path && entry.sha) blobs.set(`.gust/${entry.path}`, entry.sha);
      }
      const paths = pipelineFilesIn(blobs.keys());
      return Promise.all(paths.map(async (path) => ({ path, text: await this.readBlob(api, owner, name, blobs.get(path)!) })));
    });
  }

  async changedFiles(repo: string, event: Pick<RunEvent, "context" | "changes">): Promise<string[] | undefined> {
    const changes = event.changes;
    if (!changes) return undefined;
    if (changes.kind === "push") {
      // A new branch or a tag has nothing to compare with.
      if (event.context.event === "tag" || isZeroSha(changes.before) || isZeroSha(changes.after)) return undefined;
      const context = { action: `compare ${shortSha(changes.before)}...${shortSha(changes.after)} in ${repo}`, permission: "contents: read" };
      return this.unknownWhenGone(() =>
        this.call(repo, context, async (api, owner, name) => {
          // Files come on the first page only; one commit per page keeps the response small.
          const { data } = await api.rest.repos.compareCommitsWithBasehead({ owner, repo: name, basehead: `${changes.before}...${changes.after}`, per_page: 1 });
          const files = data.files ?? [];
          return files.length >= COMPARE_FILE_LIMIT ? undefined : pathsOf(files);
        }),
      );
    }
    const context = { action: `list the files of pull request #${changes.number} in ${repo}`, permission: "pull_requests: read" };
    return this.unknownWhenGone(() =>
      this.call(repo, context, async (api, owner, name) => {
        const files = await api.paginate(api.rest.pulls.listFiles, { owner, repo: name, pull_number: changes.number, per_page: 100 });
        return files.length >= PULL_FILE_LIMIT ? undefined : pathsOf(files);
      }),
    );
  }

  reportJob(repo: string, update: JobStatusUpdate): Promise<ReportReceipt> {
    return this.reporter.report(repo, update);
  }

  reportPipeline(repo: string, update: PipelineStatusUpdate): Promise<ReportReceipt> {
    return this.reporter.report(repo, update);
  }

  async resolveRef(repo: string, ref: string): Promise<ResolvedRef> {
    const query = parseRefQuery(ref);
    const context = { action: `resolve '${ref}' in ${repo}`, permission: "contents: read" };
    const resolved = await this.call(repo, context, (api, owner, name) => resolveGithubRef(api, owner, name, query));
    if (!resolved) throw notFound(ref, "GitHub knows no such branch, tag or commit (or the repository is not visible to these credentials)", repo);
    return resolved;
  }

  async defaultBranch(repo: string): Promise<string> {
    const context = { action: `read the default branch of ${repo}`, permission: "metadata: read" };
    return this.call(repo, context, async (api, owner, name) => (await api.rest.repos.get({ owner, repo: name })).data.default_branch);
  }

  private async readBlob(api: GithubApi, owner: string, name: string, blobSha: string): Promise<string> {
    const { data } = await api.rest.git.getBlob({ owner, repo: name, file_sha: blobSha });
    return data.encoding === "base64" ? decodeBase64(data.content) : data.content;
  }

  /** A comparison GitHub cannot make (a force-pushed-away commit) means "unknown", not a failed event. */
  private async unknownWhenGone(read: () => Promise<string[] | undefined>): Promise<string[] | undefined> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof ForgeError && (error.status === 404 || error.status === 422)) return undefined;
      throw error;
    }
  }

  /** Runs `work` with a client for the repository; every failure comes out as a ForgeError. */
  private async call<T>(repo: string, context: GithubFailureContext, work: GithubWork<T>): Promise<T> {
    const [owner, name] = splitRepo(repo);
    for (let attempt = 1; ; attempt += 1) {
      let api: GithubApi;
      try {
        api = await this.auth.forRepo(owner, name);
      } catch (error) {
        throw this.authError(repo, error);
      }
      try {
        return await work(api, owner, name);
      } catch (error) {
        // An installation token GitHub no longer takes (expired early, revoked) is replaced once
        // at once: that is renewing credentials, not retrying a failure.
        if (githubStatus(error) === 401 && this.auth.renewable) {
          this.auth.forget(owner, name);
          if (attempt === 1) continue;
        }
        throw githubError(error, { ...context, rejected: this.auth.rejected });
      }
    }
  }

  private authError(repo: string, error: unknown): ForgeError {
    const status = githubStatus(error);
    if (status === 404) {
      return new ForgeError(
        `the ${this.auth.description} is not installed on ${repo} (GitHub: ${githubMessageOf(error)}): install the App on the repository`,
        { retryable: false, code: "forge_not_installed", status, cause: error },
      );
    }
    return githubError(error, {
      action: `get an installation token for ${repo}`,
      rejected: `the ${this.auth.description}'s id or private key is wrong`,
    });
  }
}

function githubMessageOf(error: unknown): string {
  const response = (error as { response?: { data?: unknown } }).response;
  return githubMessage(response?.data) ?? (error instanceof Error ? error.message : String(error));
}

export function splitRepo(repo: string): [string, string] {
  const slash = repo.indexOf("/");
  if (slash <= 0 || slash === repo.length - 1 || repo.indexOf("/", slash + 1) !== -1) {
    throw new ForgeError(`'${repo}' is not a GitHub repository name: expected OWNER/NAME`, { retryable: false, code: "forge_bad_repository" });
  }
  return [repo.slice(0, slash), repo.slice(slash + 1)];
}

function pathsOf(files: Array<{ filename: string; previous_filename?: string }>): string[] {
  const paths = new Set<string>();
  for (const file of files) {
    if (file.previous_filename) paths.add(file.previous_filename);
    paths.add(file.filename);
  }
  return [...paths];
}

function decodeBase64(content: string): string {
  return Buffer.from(content, "base64").toString("utf8");
}
