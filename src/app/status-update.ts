// What a forge is told about a job or a pipeline run, built from an outbox entry (what changed) and
// the current rows of its pipeline, job and steps. Pure: the reporter reads the rows and the log
// tail, this decides the state, the times, the words and the summary.
import { jobTitle, TERMINAL_STATES, type JobStatusUpdate, type PipelineStatusUpdate, type ReportState, type StepFailure } from "../forges";
import { formatDuration } from "../pipeline";

/** An outbox entry: which job (or the pipeline run), which check run, and the status it changed to. */
export interface StatusEntry {
  jobId: number | null;
  /** Which check run of the job or pipeline shows it (1-based). */
  attempt: number;
  /** The job's attempt whose steps and log lines it shows. */
  jobAttempt: number;
  /** A job or pipeline status, or `requeued`: a running attempt ended and the job was queued again. */
  state: string;
  /** When the change was made. */
  createdAt: Date;
}

export interface SubjectPipeline {
  id: number;
  name: string;
  file: string;
  ref: string;
  branch: string | null;
  tag: string | null;
  sha: string;
  error: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  reportId: string | null;
  reportAttempt: number | null;
}

export interface SubjectJob {
  id: number;
  key: string;
  /** "release" for a pipeline's release: its detail says the live weight and how it ended. */
  kind?: string;
  name: string;
  needs: string[];
  attempt: number;
  failedStep: number | null;
  detail: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  reportId: string | null;
  reportAttempt: number | null;
}

export interface SubjectStep {
  index: number;
  name: string;
  status: string;
  exitCode: number | null;
  reason: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface SubjectJobSummary {
  id: number;
  name: string;
  status: string;
  detail: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** The current rows: for a job update its job and the steps of the entry's job attempt; for a pipeline its jobs. */
export interface StatusSubject {
  pipeline: SubjectPipeline;
  job?: SubjectJob;
  steps: SubjectStep[];
  jobs: SubjectJobSummary[];
}

export interface BuildOptions {
  /** Gust's own address, without a trailing slash. */
  publicUrl: string;
  /** The failing step's last log lines (already masked), when failingStep() named one. */
  logTail?: string[];
}

export type BuiltUpdate = { kind: "job"; update: JobStatusUpdate } | { kind: "pipeline"; update: PipelineStatusUpdate };

/** The most jobs listed in a pipeline's summary; a larger matrix ends with a count of the rest. */
const SUMMARY_ROWS = 200;

/** A job's or pipeline's status as forges show it: not started yet is queued, an error is a failure. */
export function reportState(status: string): ReportState {
  switch (status) {
    case "waiting":
    case "queued":
    case "pending":
      return "queued";
    case "running":
    case "success":
    case "failure":
    case "cancelled":
    case "skipped":
    case "timed_out":
      return status;
    default:
      return "failure";
  }
}

/**
 * The step that failed the entry's job attempt, for entries that end it unsuccessfully: the job's
 * failed_step when the attempt is the job's current one, else its last failed or timed-out step.
 */
export function failingStep(entry: StatusEntry, subject: StatusSubject): (StepFailure & { stepIndex: number; status: "failure" | "timed_out" }) | undefined {
  const { job } = subject;
  if (!job || !["failure", "timed_out", "error", "requeued"].includes(entry.state)) return undefined;
  const failed = subject.steps.filter((step) => step.status === "failure" || step.status === "timed_out");
  const current = entry.jobAttempt === job.attempt;
  const step = failed.find((candidate) => current && candidate.index === job.failedStep) ?? failed[failed.length - 1];
  if (!step) return undefined;
  const status = step.status === "timed_out" ? "timed_out" : "failure";
  return {
    stepName: step.name,
    stepIndex: step.index,
    exitCode: step.exitCode,
    ...(step.reason ? { reason: step.reason } : status === "timed_out" ? { reason: "timed out" } : {}),
    status,
  };
}

export function buildStatusUpdate(entry: StatusEntry, subject: StatusSubject, options: BuildOptions): BuiltUpdate {
  if (entry.jobId !== null && subject.job) return { kind: "job", update: jobUpdate(entry, subject, subject.job, options) };
  return { kind: "pipeline", update: pipelineUpdate(entry, subject, options) };
}

function jobUpdate(entry: StatusEntry, subject: StatusSubject, job: SubjectJob, options: BuildOptions): JobStatusUpdate {
  const failed = failingStep(entry, subject);
  const requeued = entry.state === "requeued";
  // An attempt that ended in the queue again shows how it ended; without a failed step its runner was lost.
  const state: ReportState = requeued ? (failed?.status ?? "cancelled") : reportState(entry.state);
  const current = entry.jobAttempt === job.attempt && !requeued;
  const startedAt = earliest(subject.steps.map((step) => step.startedAt)) ?? (current && job.attempt > 0 ? job.startedAt : null);
  const completedAt = TERMINAL_STATES.has(state) ? ((current ? job.finishedAt : null) ?? latest(subject.steps.map((step) => step.finishedAt)) ?? entry.createdAt) : null;

  const update: JobStatusUpdate = {
    ...commonFields(subject.pipeline),
    jobKey: job.key,
    jobName: job.name,
    state,
    attempt: entry.attempt,
    detailsUrl: `${options.publicUrl}/jobs/${job.id}`,
    externalId: String(job.id),
    ...times(state, startedAt, completedAt),
  };
  if (failed) {
    const { status: _status, ...failure } = failed;
    update.failure = options.logTail && options.logTail.length > 0 ? { ...failure, logTail: options.logTail } : failure;
  }
  const description = jobDescription(entry, job, state, update, current);
  if (description) update.description = description;
  if (job.reportId !== null && job.reportAttempt === entry.attempt) update.reportId = job.reportId;
  return update;
}

function jobDescription(entry: StatusEntry, job: SubjectJob, state: ReportState, update: JobStatusUpdate, current: boolean): string | undefined {
  if (entry.state === "requeued") return update.failure ? `${jobTitle(update)}; retried` : "its runner was lost; retried";
  if (entry.state === "waiting" && job.needs.length > 0) return `waiting for ${job.needs.join(", ")}`;
  // A release's check shows where its traffic stands (and how it ended) from its detail.
  if (job.kind === "release" && current && job.detail) return job.detail;
  if (state === "queued") return entry.attempt > 1 ? "queued again" : undefined;
  // A failed step says it all in the title; otherwise the job's own words (skipped: needs 'build' failed).
  if (state === "running" || state === "success" || update.failure) return undefined;
  return current && job.detail ? job.detail : undefined;
}

function pipelineUpdate(entry: StatusEntry, subject: StatusSubject, options: BuildOptions): PipelineStatusUpdate {
  const { pipeline } = subject;
  const state = reportState(entry.state);
  const completedAt = TERMINAL_STATES.has(state) ? (pipeline.finishedAt ?? entry.createdAt) : null;
  const update: PipelineStatusUpdate = {
    ...commonFields(pipeline),
    state,
    detailsUrl: `${options.publicUrl}/pipelines/${pipeline.id}`,
    externalId: String(pipeline.id),
    ...times(state, pipeline.startedAt, completedAt),
  };
  if (entry.state === "error") {
    const error = pipeline.error ?? "the pipeline file could not be read";
    update.description = firstLine(error);
    update.summary = `The pipeline file \`${pipeline.file}\` could not be run:\n\n${fenced(error)}`;
  } else {
    update.description = jobCounts(subject.jobs, TERMINAL_STATES.has(state));
    update.summary = jobsTable(subject.jobs, options.publicUrl);
  }
  if (pipeline.reportId !== null && pipeline.reportAttempt === entry.attempt) update.reportId = pipeline.reportId;
  return update;
}

function commonFields(pipeline: SubjectPipeline) {
  return {
    sha: pipeline.sha,
    ref: pipeline.ref,
    pipelineName: pipeline.name,
    ...(pipeline.branch !== null ? { branch: pipeline.branch } : {}),
    ...(pipeline.tag !== null ? { tag: pipeline.tag } : {}),
  };
}

/** Queued shows no times; a finished job or pipeline also its end and duration. */
function times(state: ReportState, startedAt: Date | null, completedAt: Date | null): Pick<JobStatusUpdate, "startedAt" | "completedAt" | "durationMs"> {
  if (state === "queued") return {};
  const fields: Pick<JobStatusUpdate, "startedAt" | "completedAt" | "durationMs"> = {};
  if (startedAt) fields.startedAt = startedAt.toISOString();
  if (completedAt) fields.completedAt = completedAt.toISOString();
  if (startedAt && completedAt) fields.durationMs = Math.max(0, completedAt.getTime() - startedAt.getTime());
  return fields;
}

const FINISHED_WORDS: Record<string, string> = {
  success: "succeeded",
  failure: "failed",
  error: "failed",
  timed_out: "timed out",
  cancelled: "cancelled",
  skipped: "skipped",
};

/** "2 succeeded, 1 failed, 1 skipped", or while it runs "1 of 4 jobs finished". */
function jobCounts(jobs: SubjectJobSummary[], finished: boolean): string {
  const total = jobs.length;
  const done = jobs.filter((job) => job.status in FINISHED_WORDS);
  if (!finished) return `${done.length} of ${total} job${total === 1 ? "" : "s"} finished`;
  const counts = new Map<string, number>();
  for (const job of done) {
    const word = FINISHED_WORDS[job.status]!;
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts.size === 0 ? "no jobs" : [...counts].map(([word, count]) => `${count} ${word}`).join(", ");
}

const STATUS_WORDS: Record<string, string> = {
  waiting: "Waiting",
  queued: "Queued",
  running: "Running",
  success: "Succeeded",
  failure: "Failed",
  error: "Failed",
  timed_out: "Timed out",
  cancelled: "Cancelled",
  skipped: "Skipped",
};

/** Markdown table of the jobs: name (linked to its page), result with the reason, duration. */
function jobsTable(jobs: SubjectJobSummary[], publicUrl: string): string {
  const rows = jobs.slice(0, SUMMARY_ROWS).map((job) => {
    const word = STATUS_WORDS[job.status] ?? job.status;
    const result = job.detail ? `${word}: ${job.detail}` : word;
    const duration = job.startedAt && job.finishedAt ? formatDuration(Math.max(0, job.finishedAt.getTime() - job.startedAt.getTime())) : "";
    return `| [${cell(job.name).replace(/([[\]])/g, "\\$1")}](${publicUrl}/jobs/${job.id}) | ${cell(result)} | ${duration} |`;
  });
  const lines = ["| Job | Result | Duration |", "| --- | --- | --- |", ...rows];
  if (jobs.length > SUMMARY_ROWS) lines.push("", `… and ${jobs.length - SUMMARY_ROWS} more jobs`);
  return lines.join("\n");
}

/** Text in a table cell: one line, pipes escaped, backticks kept out of code spans. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|").replace(/`/g, "'");
}

/** A fenced block longer than any run of backticks in the text, so the text cannot close it. */
function fenced(text: string): string {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}text\n${text}\n${fence}`;
}

function firstLine(text: string): string {
  return text.split("\n").find((line) => line.trim() !== "")?.trim() ?? text;
}

function earliest(dates: Array<Date | null>): Date | null {
  return dates.reduce<Date | null>((best, date) => (date && (!best || date < best) ? date : best), null);
}

function latest(dates: Array<Date | null>): Date | null {
  return dates.reduce<Date | null>((best, date) => (date && (!best || date > best) ? date : best), null);
}
