// Job and pipeline states on GitLab: one external commit status each, named gust/<pipeline>/<job>.
// GitLab updates the pending or running status of that name and ref, and refuses a transition it
// has already made (400 "Cannot transition status via :run from :running"): for an update sent
// twice that refusal means "already shown", not a failure.
import type { CommitablePipelineStatus, Gitlab } from "@gitbeaker/rest";
import type { JobStatusUpdate, PipelineStatusUpdate, ReportReceipt, ReportState } from "../forge";
import { shortSha } from "../http-failure";
import { fingerprint, reportKey, ReportLedger } from "../report-ledger";
import { GITLAB_DESCRIPTION_LIMIT, statusLine, truncateEnd } from "../report-text";
import { gitlabError } from "./errors";
import { GitlabResponseError } from "./requester";

type Update = JobStatusUpdate | PipelineStatusUpdate;

/** GitLab's commit status states; `skipped` is accepted by the API though gitbeaker's type omits it. */
export type GitlabStatusState = CommitablePipelineStatus | "skipped";

export interface GitlabStatusBody {
  state: GitlabStatusState;
  name: string;
  ref?: string;
  targetUrl?: string;
  description: string;
}

function gitlabState(state: ReportState): GitlabStatusState {
  switch (state) {
    case "queued":
      return "pending";
    case "running":
      return "running";
    case "success":
      return "success";
    case "failure":
    case "timed_out":
      return "failed";
    case "cancelled":
      return "canceled";
    case "skipped":
      return "skipped";
  }
}

/** GitLab files a status under a branch or tag name, not a full ref. */
function statusRef(update: Update): string | undefined {
  if (update.tag) return update.tag;
  if (update.branch) return update.branch;
  const short = update.ref.replace(/^refs\/(heads|tags)\//, "");
  return short === update.ref && update.ref.startsWith("refs/") ? undefined : short;
}

export function gitlabStatusBody(update: Update): GitlabStatusBody {
  const name = "jobKey" in update ? `gust/${update.pipelineName}/${update.jobName}` : `gust/${update.pipelineName}`;
  const body: GitlabStatusBody = {
    state: gitlabState(update.state),
    name: truncateEnd(name, 255),
    description: statusLine(update, GITLAB_DESCRIPTION_LIMIT),
  };
  const ref = statusRef(update);
  if (ref) body.ref = ref;
  if (update.detailsUrl) body.targetUrl = update.detailsUrl;
  return body;
}

export class GitlabReporter {
  private readonly ledger = new ReportLedger();

  constructor(private readonly api: Gitlab<false>) {}

  report(repo: string, update: Update): Promise<ReportReceipt> {
    const key = reportKey(repo, update);
    return this.ledger.serialize(key, () => this.reportInOrder(repo, update, key));
  }

  private async reportInOrder(repo: string, update: Update, key: string): Promise<ReportReceipt> {
    const print = fingerprint(update);
    const known = this.ledger.get(key);
    if (known && known.fingerprint === print) return known.receipt;
    const earlierId = update.reportId ?? known?.receipt.reportId;
    const { state, ...options } = gitlabStatusBody(update);
    let receipt: ReportReceipt;
    try {
      const status = await this.api.Commits.editStatus(repo, update.sha, state as CommitablePipelineStatus, options);
      receipt = { reportId: String(status.id), via: "commit-status" };
    } catch (error) {
      if (!alreadyThere(error)) {
        throw gitlabError(error, {
          action: `set commit status '${options.name}' to ${state} on ${shortSha(update.sha)} in ${repo}`,
          permission: "`api` scope with at least the Developer role",
        });
      }
      receipt = { ...(earlierId ? { reportId: earlierId } : {}), via: "commit-status" };
    }
    this.ledger.set(key, { receipt, fingerprint: print });
    return receipt;
  }
}

function alreadyThere(error: unknown): boolean {
  return error instanceof GitlabResponseError && error.status === 400 && /cannot transition status/i.test(error.description);
}
