// What GitHub is sent for a job or pipeline state: a check run body (Checks API) or a commit status
// (the fallback for credentials that may not write checks). Pure.
import type { JobStatusUpdate, PipelineStatusUpdate, ReportState } from "../forge";
import {
  GITHUB_OUTPUT_LIMIT,
  GITHUB_STATUS_DESCRIPTION_LIMIT,
  jobSummary,
  jobTitle,
  logTailMarkdown,
  pipelineSummary,
  pipelineTitle,
  statusLine,
  truncateEnd,
} from "../report-text";

type Update = JobStatusUpdate | PipelineStatusUpdate;

export type CheckConclusion = "success" | "failure" | "cancelled" | "skipped" | "timed_out";

export interface CheckRunBody {
  name: string;
  status: "queued" | "in_progress" | "completed";
  conclusion?: CheckConclusion;
  started_at?: string;
  completed_at?: string;
  details_url?: string;
  external_id?: string;
  output: { title: string; summary: string; text?: string };
}

export interface CommitStatusBody {
  state: "pending" | "success" | "failure" | "error";
  context: string;
  description: string;
  target_url?: string;
}

function isJob(update: Update): update is JobStatusUpdate {
  return "jobKey" in update;
}

/** Shown in the checks list, grouped under the App: "ci / test (node: 20)", "ci". */
export function checkRunName(update: Update): string {
  return isJob(update) ? `${update.pipelineName} / ${update.jobName}` : update.pipelineName;
}

/** Status contexts are what branch protection requires: stable, prefixed, one per job. */
export function statusContext(update: Update): string {
  return isJob(update) ? `gust/${update.pipelineName}/${update.jobName}` : `gust/${update.pipelineName}`;
}

function checkStatus(state: ReportState): Pick<CheckRunBody, "status" | "conclusion"> {
  if (state === "queued") return { status: "queued" };
  if (state === "running") return { status: "in_progress" };
  return { status: "completed", conclusion: state };
}

export function checkRunBody(update: Update): CheckRunBody {
  const body: CheckRunBody = {
    name: checkRunName(update),
    ...checkStatus(update.state),
    output: isJob(update)
      ? { title: truncateEnd(jobTitle(update), 255), summary: jobSummary(update, GITHUB_OUTPUT_LIMIT) }
      : { title: truncateEnd(pipelineTitle(update), 255), summary: pipelineSummary(update, GITHUB_OUTPUT_LIMIT) },
  };
  const text = isJob(update) ? logTailMarkdown(update.failure, GITHUB_OUTPUT_LIMIT) : undefined;
  if (text) body.output.text = text;
  if (update.detailsUrl) body.details_url = update.detailsUrl;
  if (update.externalId) body.external_id = update.externalId;
  if (update.startedAt && update.state !== "queued") body.started_at = update.startedAt;
  if (update.completedAt && body.status === "completed") body.completed_at = update.completedAt;
  return body;
}

function statusState(state: ReportState): CommitStatusBody["state"] {
  switch (state) {
    case "queued":
    case "running":
      return "pending";
    case "success":
    // A skipped job must not block a merge that requires its context, as GitHub treats skipped checks.
    case "skipped":
      return "success";
    case "failure":
    case "timed_out":
      return "failure";
    case "cancelled":
      return "error";
  }
}

export function commitStatusBody(update: Update): CommitStatusBody {
  const body: CommitStatusBody = {
    state: statusState(update.state),
    context: statusContext(update),
    description: statusLine(update, GITHUB_STATUS_DESCRIPTION_LIMIT),
  };
  if (update.detailsUrl) body.target_url = update.detailsUrl;
  return body;
}
