// The Forge on GitLab (gitlab.com or self-managed): raw files and trees at the exact commit,
// changed paths through compare and merge request diffs, reports as commit statuses.
import { Gitlab } from "@gitbeaker/rest";
import { ForgeError } from "../../errors";
import { pipelineFilesIn } from "../../pipeline";
import type { Forge, JobStatusUpdate, PipelineFileText, PipelineStatusUpdate, ReportReceipt, ResolvedRef, RunEvent } from "../forge";
import { isZeroSha } from "../forge";
import { shortSha } from "../http-failure";
import { notFound, parseRefQuery } from "../ref-query";
import { gitlabError, gitlabStatus, type GitlabFailureContext } from "./errors";
import { resolveGitlabRef } from "./refs";
import { GitlabReporter } from "./reporter";
import { GitlabResponseError, singleAttemptRequester } from "./requester";

export interface GitlabForgeOptions {
  /** https://gitlab.com (default), a self-managed instance, or the loopback stand-in; with or without /api/v4. */
  host?: string;
  /** Personal, project or group access token with the `api` scope. */
  token: string;
  /** Per request. Default 30 s. */
  timeoutMs?: number;
}

const READ_PERMISSION = "`read_api` scope with at least the Reporter role";

export class GitlabForge implements Forge {
  readonly kind = "gitlab";
  private readonly api: Gitlab<false>;
  private readonly reporter: GitlabReporter;

  constructor(options: GitlabForgeOptions) {
    this.api = new Gitlab<false>({
      // Gitbeaker appends /api/v4 itself: accept the instance URL or the API URL.
      host: (options.host ?? "https://gitlab.com").replace(/\/+$/, "").replace(/\/api\/v4$/, ""),
      token: options.token,
      requesterFn: singleAttemptRequester,
      queryTimeout: options.timeoutMs ?? 30_000,
    });
    this.reporter = new GitlabReporter(this.api);
  }

  async readFile(repo: string, sha: string, path: string): Promise<string | undefined> {
    return this.raw(repo, sha, path, { action: `read ${path} at ${shortSha(sha)} in ${repo}`, permission: READ_PERMISSION });
  }

  async listPipelineFiles(repo: string, sha: string): Promise<PipelineFileText[]> {
    const context = { action: `list pipeline files at ${shortSha(sha)} in ${repo}`, permission: READ_PERMISSION };
    // Asking for the two root names directly avoids paging through a large root tree.
    const [yml, yaml, dir] = await Promise.all([
      this.raw(repo, sha, ".gust.yml", context),
      this.raw(repo, sha, ".gust.yaml", context),
      this.tree(repo, sha, ".gust", context),
    ]);
    const texts = new Map<string, string>();
    if (yml !== undefined) texts.set(".gust.yml", yml);
    if (yaml !== undefined) texts.set(".gust.yaml", yaml);
    const paths = pipelineFilesIn([...texts.keys(), ...dir]);
    return Promise.all(
      paths.map(async (path) => {
        const text = texts.get(path) ?? (await this.raw(repo, sha, path, context));
        // Listed a moment ago at this very commit: missing now means GitLab is briefly inconsistent.
        if (text === undefined) {
          throw new ForgeError(`GitLab listed ${path} at ${shortSha(sha)} in ${repo} but then did not find it`, { retryable: true, code: "forge_unavailable" });
        }
        return { path, text };
      }),
    );
  }

  async changedFiles(repo: string, event: Pick<RunEvent, "context" | "changes">): Promise<string[] | undefined> {
    const changes = event.changes;
    if (!changes) return undefined;
    try {
      if (changes.kind === "push") {
        if (event.context.event === "tag" || isZeroSha(changes.before) || isZeroSha(changes.after)) return undefined;
        const compare = await this.api.Repositories.compare(repo, changes.before, changes.after);
        // A comparison GitLab gave up on lists only part of the diff.
        if (compare.compare_timeout) return undefined;
        return pathsOf(compare.diffs ?? []);
      }
      const diffs = await this.api.MergeRequests.allDiffs(repo, changes.number, { perPage: 100 });
      return pathsOf(diffs);
    } catch (error) {
      // The old commit of a force push, or a merge request that is gone: unknown, not a failure.
      if (gitlabStatus(error) === 404) return undefined;
      const action =
        changes.kind === "push"
          ? `compare ${shortSha(changes.before)}...${shortSha(changes.after)} in ${repo}`
          : `list the changes of merge request !${changes.number} in ${repo}`;
      throw gitlabError(error, { action, permission: READ_PERMISSION });
    }
  }

  reportJob(repo: string, update: JobStatusUpdate): Promise<ReportReceipt> {
    return this.reporter.report(repo, update);
  }

  reportPipeline(repo: string, update: PipelineStatusUpdate): Promise<ReportReceipt> {
    return this.reporter.report(repo, update);
  }

  async resolveRef(repo: string, ref: string): Promise<ResolvedRef> {
    const query = parseRefQuery(ref);
    let resolved: ResolvedRef | undefined;
    try {
      resolved = await resolveGitlabRef(this.api, repo, query);
    } catch (error) {
      throw gitlabError(error, { action: `resolve '${ref}' in ${repo}`, permission: READ_PERMISSION });
    }
    if (!resolved) throw notFound(ref, "GitLab knows no such branch, tag or commit", repo);
    return resolved;
  }

  async defaultBranch(repo: string): Promise<string> {
    const action = `read the default branch of ${repo}`;
    let project: { default_branch?: string | null };
    try {
      project = await this.api.Projects.show(repo);
    } catch (error) {
      throw gitlabError(error, { action, permission: READ_PERMISSION });
    }
    // An empty project has no branch yet.
    if (!project.default_branch) throw new ForgeError(`GitLab project ${repo} has no default branch (it has no commits yet)`, { retryable: false, code: "forge_not_found" });
    return project.default_branch;
  }

  private async raw(repo: string, sha: string, path: string, context: GitlabFailureContext): Promise<string | undefined> {
    try {
      const body = await this.api.RepositoryFiles.showRaw(repo, path, sha);
      return typeof body === "string" ? body : await body.text();
    } catch (error) {
      // "404 File Not Found" is the answer for a missing path; a missing commit or project says so.
      if (error instanceof GitlabResponseError && error.status === 404 && /file not found/i.test(error.description)) return undefined;
      throw gitlabError(error, context);
    }
  }

  /** Paths of the blobs directly in `dir` at the commit; none when the directory does not exist. */
  private async tree(repo: string, sha: string, dir: string, context: GitlabFailureContext): Promise<string[]> {
    try {
      const entries = await this.api.Repositories.allRepositoryTrees(repo, { path: dir, ref: sha, perPage: 100 });
      return entries.filter((entry) => entry.type === "blob").map((entry) => entry.path);
    } catch (error) {
      if (error instanceof GitlabResponseError && error.status === 404 && /tree not found/i.test(error.description)) return [];
      throw gitlabError(error, context);
    }
  }
}

function pathsOf(diffs: Array<{ old_path: string; new_path: string }>): string[] {
  const paths = new Set<string>();
  for (const diff of diffs) {
    paths.add(diff.old_path);
    paths.add(diff.new_path);
  }
  return [...paths];
}
