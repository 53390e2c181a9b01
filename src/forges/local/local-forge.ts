// The Forge for a git repository on disk (`gust trigger`, `gust serve` without a hosted forge).
// Files come from the commit's tree (`git ls-tree`, `git cat-file`), changed paths from
// `git diff --name-only`. A repository on disk has no place for statuses: reports are kept in
// memory (the latest per job and pipeline run, for the API and tests) and logged.
import { isAbsolute, resolve } from "node:path";
import { ForgeError } from "../../errors";
import { pipelineFilesIn } from "../../pipeline";
import type { Forge, JobStatusUpdate, PipelineFileText, PipelineStatusUpdate, ReportReceipt, ResolvedRef, RunEvent } from "../forge";
import { isZeroSha } from "../forge";
import { shortSha } from "../http-failure";
import { branchResolved, commitResolved, notFound, parseRefQuery, tagResolved } from "../ref-query";
import { fingerprint, reportKey } from "../report-ledger";
import { jobTitle, logTailMarkdown, pipelineTitle } from "../report-text";
import { git, LocalGitError, parseLsTree, type TreeEntry } from "./git";

export interface LocalForgeOptions {
  /** Where report lines go (the server log); silent by default. */
  log?: (line: string) => void;
  /** Reports kept per repository before the oldest are dropped. Default 10,000. */
  maxReports?: number;
}

export interface LocalReport {
  kind: "job" | "pipeline";
  /** "ci / test (node: 20)" or "ci". */
  name: string;
  /** "Failed at step `npm test` (exit code 1)". */
  title: string;
  /** The end of the failing step's log, as a hosted forge would show it. */
  text?: string;
  update: JobStatusUpdate | PipelineStatusUpdate;
  receipt: ReportReceipt;
}

export class LocalForge implements Forge {
  readonly kind = "local";
  private readonly log: (line: string) => void;
  private readonly maxReports: number;
  /** Repository directory → report key → the latest report. */
  private readonly reports = new Map<string, Map<string, LocalReport & { print: string }>>();
  private nextId = 1;

  constructor(options: LocalForgeOptions = {}) {
    this.log = options.log ?? (() => {});
    this.maxReports = options.maxReports ?? 10_000;
  }

  async readFile(repo: string, sha: string, path: string): Promise<string | undefined> {
    const dir = directoryOf(repo);
    const entries = await this.lsTree(dir, sha, [], [path], `read ${path} at ${shortSha(sha)} in ${dir}`);
    const entry = entries.find((item) => item.path === path && item.type === "blob");
    return entry ? this.blob(dir, entry, `read ${path} in ${dir}`) : undefined;
  }

  async listPipelineFiles(repo: string, sha: string): Promise<PipelineFileText[]> {
    const dir = directoryOf(repo);
    const action = `list pipeline files at ${shortSha(sha)} in ${dir}`;
    const entries = await this.lsTree(dir, sha, ["-r"], [".gust.yml", ".gust.yaml", ".gust"], action);
    const blobs = new Map(entries.filter((entry) => entry.type === "blob").map((entry) => [entry.path, entry]));
    return Promise.all(pipelineFilesIn(blobs.keys()).map(async (path) => ({ path, text: await this.blob(dir, blobs.get(path)!, action) })));
  }

  async changedFiles(repo: string, event: Pick<RunEvent, "context" | "changes">): Promise<string[] | undefined> {
    const dir = directoryOf(repo);
    const changes = event.changes;
    let range: string[];
    if (!changes) return undefined;
    if (changes.kind === "push") {
      if (event.context.event === "tag" || isZeroSha(changes.before) || isZeroSha(changes.after)) return undefined;
      range = [changes.before, changes.after];
    } else {
      const base = changes.baseSha ?? event.context.targetBranch;
      if (!base) return undefined;
      // Three dots: what the request adds since it left the target, as a forge shows it.
      range = [`${base}...${changes.headSha}`];
    }
    try {
      // No rename detection: a moved file touches both paths, as the hosted forges report it.
      const output = await git(dir, ["diff", "--name-only", "-z", "--no-renames", ...range, "--"]);
      return [...new Set(output.toString("utf8").split("\0").filter(Boolean))];
    } catch (error) {
      if (error instanceof LocalGitError && !error.gitMissing) return undefined;
      throw localError(error, `diff ${range.join(" ")} in ${dir}`);
    }
  }

  async reportJob(repo: string, update: JobStatusUpdate): Promise<ReportReceipt> {
    const text = logTailMarkdown(update.failure);
    return this.record(repo, update, { kind: "job", name: `${update.pipelineName} / ${update.jobName}`, title: jobTitle(update), ...(text ? { text } : {}) });
  }

  async reportPipeline(repo: string, update: PipelineStatusUpdate): Promise<ReportReceipt> {
    return this.record(repo, update, { kind: "pipeline", name: update.pipelineName, title: pipelineTitle(update) });
  }

  async resolveRef(repo: string, ref: string): Promise<ResolvedRef> {
    const dir = directoryOf(repo);
    const query = parseRefQuery(ref);
    const commitOf = (rev: string) => this.revParse(dir, `${rev}^{commit}`, `resolve '${ref}' in ${dir}`);
    const branch = async (name: string) => {
      const sha = await commitOf(`refs/heads/${name}`);
      return sha && branchResolved(name, sha);
    };
    const tag = async (name: string) => {
      const sha = await commitOf(`refs/tags/${name}`);
      return sha && tagResolved(name, sha);
    };
    const commit = async (prefix: string) => {
      const sha = await commitOf(prefix);
      // rev-parse also reads a short hex as a ref name: only a commit whose id starts with it counts.
      return sha?.startsWith(prefix.toLowerCase()) ? commitResolved(sha) : undefined;
    };
    const resolved =
      query.kind === "branch"
        ? await branch(query.name)
        : query.kind === "tag"
          ? await tag(query.name)
          : query.kind === "commit"
            ? await commit(query.sha)
            : ((await branch(query.name)) ?? (await tag(query.name)) ?? (query.maybeSha ? await commit(query.name) : undefined));
    if (!resolved) throw notFound(ref, "the repository has no such branch, tag or commit", dir);
    return resolved;
  }

  async defaultBranch(repo: string): Promise<string> {
    const dir = directoryOf(repo);
    try {
      return (await git(dir, ["symbolic-ref", "--quiet", "--short", "HEAD"])).toString("utf8").trim();
    } catch (error) {
      // --quiet: a detached HEAD fails without a word; anything else (not a repository) says why.
      if (error instanceof LocalGitError && !error.gitMissing && error.stderr === "") {
        throw new ForgeError(`${dir} has a detached HEAD: no default branch`, { retryable: false, code: "forge_not_found" });
      }
      throw localError(error, `read the default branch of ${dir}`);
    }
  }

  /** The commit `rev` names, or undefined when there is none (`--verify --quiet` fails silently then). */
  private async revParse(dir: string, rev: string, action: string): Promise<string | undefined> {
    try {
      return (await git(dir, ["rev-parse", "--verify", "--quiet", rev])).toString("utf8").trim();
    } catch (error) {
      if (error instanceof LocalGitError && !error.gitMissing && error.stderr === "") return undefined;
      throw localError(error, action);
    }
  }

  /** The latest report of every job and pipeline run of the repository (at `sha` when given). */
  reportsFor(repo: string, sha?: string): LocalReport[] {
    const byKey = this.reports.get(directoryOf(repo));
    if (!byKey) return [];
    return [...byKey.values()].filter((report) => sha === undefined || report.update.sha === sha).map(({ print: _print, ...report }) => report);
  }

  private record(repo: string, update: JobStatusUpdate | PipelineStatusUpdate, what: Pick<LocalReport, "kind" | "name" | "title" | "text">): ReportReceipt {
    const dir = directoryOf(repo);
    let byKey = this.reports.get(dir);
    if (!byKey) this.reports.set(dir, (byKey = new Map()));
    const key = reportKey(dir, update);
    const print = fingerprint(update);
    const known = byKey.get(key);
    if (known && known.print === print) return known.receipt;
    const receipt: ReportReceipt = { reportId: update.reportId ?? known?.receipt.reportId ?? `local-${this.nextId++}`, via: "memory" };
    byKey.delete(key);
    byKey.set(key, { ...what, update, receipt, print });
    if (byKey.size > this.maxReports) byKey.delete(byKey.keys().next().value!);
    this.log(`${shortSha(update.sha)} ${what.name}: ${what.title}${update.detailsUrl ? ` ${update.detailsUrl}` : ""}${what.text ? `\n${what.text}` : ""}`);
    return receipt;
  }

  private async lsTree(dir: string, sha: string, options: string[], paths: string[], action: string): Promise<TreeEntry[]> {
    try {
      // ^{commit}: only a commit (or a tag pointing at one) names a state of the repository.
      return parseLsTree(await git(dir, ["ls-tree", "-z", ...options, `${sha}^{commit}`, "--", ...paths]));
    } catch (error) {
      throw localError(error, action);
    }
  }

  private async blob(dir: string, entry: TreeEntry, action: string): Promise<string> {
    try {
      return (await git(dir, ["cat-file", "blob", entry.object])).toString("utf8");
    } catch (error) {
      throw localError(error, action);
    }
  }
}

function directoryOf(repo: string): string {
  return isAbsolute(repo) ? repo : resolve(repo);
}

function localError(error: unknown, action: string): ForgeError {
  if (!(error instanceof LocalGitError)) return new ForgeError(`could not ${action}: ${String(error)}`, { retryable: false, cause: error });
  if (error.gitMissing) return new ForgeError(`could not ${action}: git is not installed`, { retryable: false, code: "forge_unavailable", cause: error });
  // A commit that is not there, or a directory that is not a repository: the same call will not succeed later.
  return new ForgeError(`could not ${action}: ${error.stderr || error.message}`, { retryable: false, code: "forge_not_found", cause: error });
}
