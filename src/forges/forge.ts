// The Forge seam: where repositories live (GitHub, GitLab, a git repository on disk). app/ reads
// pipeline files and changed paths through it; the forge-updates outbox reports job and pipeline
// states back through it. Only main/ knows which implementation it is.
//
// Contract (checked for every implementation by test/forges/forge-contract.ts):
//  1. `repo` is the repository's full name: OWNER/NAME on GitHub, GROUP/…/PROJECT on GitLab, the
//     absolute path of the repository for local (as stored in repositories.full_name).
//  2. readFile and listPipelineFiles read the tree of the exact commit `sha`, never a branch head.
//     readFile resolves undefined when the path is not a file at that commit; a commit or a
//     repository that does not exist rejects (ForgeError, code forge_not_found). listPipelineFiles
//     returns `.gust.yml` / `.gust.yaml` at the root and `.gust/*.yml|yaml` (not deeper), in
//     pipelineFilesIn order, each with its text.
//  3. changedFiles lists the paths a push (before..after) or a pull/merge request (its diff)
//     touches, both paths of a rename included. It resolves undefined when that cannot be known (a
//     new branch, a tag, a diff the forge truncated): path filters then pass.
//  4. reportJob / reportPipeline show one state per job (and per pipeline run) on the commit:
//     queued → running → success | failure | cancelled | skipped | timed_out. The first report
//     creates it, later ones update it; the receipt's reportId (the check run id on GitHub) is kept
//     by the caller and passed back as `update.reportId`, so a restarted server updates instead of
//     creating a second one. Reporting the same update twice shows the same thing once. Updates
//     of one job arrive in order (the outbox sends them so). Log lines in `failure.logTail` are
//     already masked (logs/); the forge strips ANSI colours and cuts text to its own limits.
//  5. Failures reject with ForgeError (src/errors.ts, fault infrastructure): retryable for 5xx,
//     429, rate limits and network errors, with retryAfterMs when the forge said how long to wait;
//     not retryable for other 4xx. 401/403 say whether the credentials are wrong or which
//     permission they lack. One attempt per call: callers (the outbox, the delivery processor)
//     own retries and backoff, so retries are never stacked.
//  6. Where reports go. GitHub: the Checks API, one check run per job ("<pipeline> / <job>") and
//     one per pipeline run ("<pipeline>"); credentials that may not write checks (a plain token)
//     fall back to commit statuses with context gust/<pipeline>/<job> (gust/<pipeline>), and that
//     is remembered for the repository. GitLab: a commit status per job and pipeline, named the
//     same way. Local: a repository on disk has no statuses, so reports are kept in memory (the
//     latest per job) and logged.
//  7. resolveRef names a commit the way a person would: a branch name (`main`, `feature/x`), a
//     tag name, a full ref (refs/heads/…, refs/tags/…) or a commit sha (full or abbreviated). A
//     bare name is looked up as a branch first, then as a tag, then as a sha. The answer is the
//     commit (an annotated tag is peeled to the commit it tags), the full ref (the sha itself for
//     a commit named by sha) and the branch or tag. A name that is none of these rejects with
//     ForgeError code forge_not_found, not retryable.
//  8. defaultBranch is the repository's default branch as the forge has it now (HEAD's branch for
//     a repository on disk).
import type { EventContext } from "../pipeline";

export type ForgeKind = "github" | "gitlab" | "local";

export interface PipelineFileText {
  /** Relative, `/`-separated: `.gust.yml`, `.gust/deploy.yml`. */
  path: string;
  text: string;
}

/** What a job or pipeline shows on the commit. */
export type ReportState = "queued" | "running" | "success" | "failure" | "cancelled" | "skipped" | "timed_out";

export const TERMINAL_STATES: ReadonlySet<ReportState> = new Set(["success", "failure", "cancelled", "skipped", "timed_out"]);

/** The step that failed a job, with the end of its log. */
export interface StepFailure {
  stepName: string;
  /** 0-based, as in the plan. */
  stepIndex?: number;
  exitCode?: number | null;
  /** Human explanation when not a plain exit: "timed out after 5m". */
  reason?: string;
  /** The last lines of the step's log, masked, without newlines. */
  logTail?: string[];
}

/**
 * Plain JSON (ISO strings, no Dates): the outbox stores updates as they are and sends them later.
 */
interface StatusUpdateBase {
  sha: string;
  /** Full ref of the run: refs/heads/main, refs/tags/v1.2.0, refs/pull/7/head. */
  ref: string;
  /** Branch (source branch of a pull/merge request) or tag: GitLab files statuses under it. */
  branch?: string;
  tag?: string;
  pipelineName: string;
  state: ReportState;
  /** Gust's page for this job or pipeline run. */
  detailsUrl?: string;
  /** ISO 8601. */
  startedAt?: string;
  completedAt?: string;
  durationMs?: number;
  /** One line, shown where only a line fits: "skipped: needs build failed". */
  description?: string;
  /** The receipt's reportId of an earlier report of the same job or pipeline run. */
  reportId?: string;
  /**
   * Gust's id of the job or pipeline run (external_id on GitHub). A re-run at the same commit has
   * a new one and gets its own check run.
   */
  externalId?: string;
}

export interface JobStatusUpdate extends StatusUpdateBase {
  /** Stable planned-job key: `test-node-20`. */
  jobKey: string;
  /** Display name: `test (node: 20)`. */
  jobName: string;
  /** 1 for the first attempt; a retry is a new attempt with its own check run. */
  attempt?: number;
  failure?: StepFailure;
}

export interface PipelineStatusUpdate extends StatusUpdateBase {
  /** Markdown: the jobs and their results, or every problem of a pipeline file that does not parse. */
  summary?: string;
}

export interface ReportReceipt {
  /** Pass back as `update.reportId` on later reports of the same job or pipeline run. */
  reportId?: string;
  /** Where the report went. */
  via: "checks" | "commit-status" | "memory";
}

export interface RepositoryInfo {
  /** OWNER/NAME, GROUP/…/PROJECT, or the path on disk. */
  fullName: string;
  cloneUrl: string;
  defaultBranch: string;
}

/** What changedFiles compares for an event. */
export type ChangeSource =
  | { kind: "push"; before: string; after: string }
  | { kind: "review"; number: number; headSha: string; baseSha?: string };

/** A commit as a ref names it (contract point 7). */
export interface ResolvedRef {
  sha: string;
  /** refs/heads/main, refs/tags/v1.2.0, or the sha when a commit was named by its sha. */
  ref: string;
  branch?: string;
  tag?: string;
}

/**
 * Which pipeline files an event runs. Webhooks run every file; a manual trigger may name one
 * pipeline (by name or file), a schedule tick runs the file its cron entry is in.
 */
export type PipelineSelection = { pipeline: string } | { scheduleEntry: { file: string; index: number } };

export interface RunEvent {
  kind: "run";
  /** The repository Gust builds: for a pull/merge request from a fork, the target (base) one. */
  repo: RepositoryInfo;
  context: EventContext;
  /** From a fork: gets no secrets. */
  fromFork: boolean;
  /** The forge's name for what was delivered, e.g. `push`, `pull_request.synchronize`, `Merge Request Hook.update`. */
  deliveryKind: string;
  changes?: ChangeSource;
  /** Absent: every pipeline file. */
  selection?: PipelineSelection;
}

export type NormalizedEvent = RunEvent | { kind: "ignored"; reason: string };

export interface Forge {
  readonly kind: ForgeKind;
  readFile(repo: string, sha: string, path: string): Promise<string | undefined>;
  listPipelineFiles(repo: string, sha: string): Promise<PipelineFileText[]>;
  changedFiles(repo: string, event: Pick<RunEvent, "context" | "changes">): Promise<string[] | undefined>;
  reportJob(repo: string, update: JobStatusUpdate): Promise<ReportReceipt>;
  reportPipeline(repo: string, update: PipelineStatusUpdate): Promise<ReportReceipt>;
  resolveRef(repo: string, ref: string): Promise<ResolvedRef>;
  defaultBranch(repo: string): Promise<string>;
}

export const ZERO_SHA = "0000000000000000000000000000000000000000";

/** Whether a sha means "no commit" (a created or deleted ref). */
export function isZeroSha(sha: string | null | undefined): boolean {
  return !sha || /^0+$/.test(sha);
}
