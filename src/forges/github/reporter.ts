// Job and pipeline states on GitHub: one check run each, created once and then updated; commit
// statuses instead when the credentials may not write checks (a personal access token, an App
// without the Checks permission), remembered per repository so the refusal is paid once.
import { ForgeError } from "../../errors";
import type { JobStatusUpdate, PipelineStatusUpdate, ReportReceipt } from "../forge";
import { shortSha } from "../http-failure";
import { fingerprint, reportKey, ReportLedger } from "../report-ledger";
import type { GithubApi } from "./client";
import type { GithubFailureContext } from "./errors";
import { checkRunBody, commitStatusBody } from "./report-bodies";

export type GithubWork<T> = (api: GithubApi, owner: string, name: string) => Promise<T>;
export type GithubCall = <T>(repo: string, context: GithubFailureContext, work: GithubWork<T>) => Promise<T>;

type Update = JobStatusUpdate | PipelineStatusUpdate;

export class GithubReporter {
  private readonly ledger = new ReportLedger();
  /** Repositories (lower case) whose credentials were refused the Checks API. */
  private readonly statusesOnly = new Set<string>();

  constructor(
    private readonly call: GithubCall,
    private readonly log: (message: string) => void,
  ) {}

  report(repo: string, update: Update): Promise<ReportReceipt> {
    const key = reportKey(repo, update);
    return this.ledger.serialize(key, () => this.reportInOrder(repo, update, key));
  }

  private async reportInOrder(repo: string, update: Update, key: string): Promise<ReportReceipt> {
    const print = fingerprint(update);
    const known = this.ledger.get(key);
    // The same state again (a redelivered outbox row): already shown, nothing to send.
    if (known && known.fingerprint === print) return known.receipt;
    const receipt = await this.send(repo, update, update.reportId ?? known?.receipt.reportId);
    this.ledger.set(key, { receipt, fingerprint: print });
    return receipt;
  }

  /** Whether reports for the repository go to commit statuses (after checks were refused). */
  usesStatuses(repo: string): boolean {
    return this.statusesOnly.has(repo.toLowerCase());
  }

  private async send(repo: string, update: Update, checkRunId: string | undefined): Promise<ReportReceipt> {
    if (!this.usesStatuses(repo)) {
      try {
        return await this.sendCheckRun(repo, update, checkRunId);
      } catch (error) {
        if (!checksRefused(error)) throw error;
        this.statusesOnly.add(repo.toLowerCase());
        this.log(`GitHub: ${(error as Error).message}; reporting ${repo} with commit statuses instead of checks`);
      }
    }
    return this.sendStatus(repo, update);
  }

  private sendCheckRun(repo: string, update: Update, checkRunId: string | undefined): Promise<ReportReceipt> {
    const body = checkRunBody(update);
    const id = checkRunId !== undefined ? Number(checkRunId) : undefined;
    const context = {
      action: `${id === undefined ? "create" : "update"} check run '${body.name}' on ${shortSha(update.sha)} in ${repo}`,
      permission: "checks: write",
    };
    return this.call(repo, context, async (api, owner, name) => {
      const { data } =
        id !== undefined && Number.isSafeInteger(id)
          ? await api.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", { owner, repo: name, check_run_id: id, ...body })
          : await api.request("POST /repos/{owner}/{repo}/check-runs", { owner, repo: name, head_sha: update.sha, ...body });
      return { reportId: String(data.id), via: "checks" as const };
    });
  }

  private sendStatus(repo: string, update: Update): Promise<ReportReceipt> {
    const body = commitStatusBody(update);
    const context = { action: `set commit status '${body.context}' on ${shortSha(update.sha)} in ${repo}`, permission: "statuses: write" };
    return this.call(repo, context, async (api, owner, name) => {
      await api.rest.repos.createCommitStatus({ owner, repo: name, sha: update.sha, ...body });
      return { via: "commit-status" as const };
    });
  }
}

/**
 * The credentials may not use the Checks API: 403 (not a rate limit), or 404, which GitHub answers
 * when a token cannot see the endpoint at all.
 */
function checksRefused(error: unknown): boolean {
  return error instanceof ForgeError && (error.code === "forge_forbidden" || error.code === "forge_not_found");
}
