// What the REST API (/api) needs from the rest of Gust, as small interfaces. The stores implement
// most of them as they are (method names match); main/api-wiring.ts builds the rest. Records carry
// at least the fields listed: the routes copy only those into answers, never whole rows.
import type { LogHub } from "../../logs/log-hub";
import type { LogStore } from "../../logs/log-store";
import type { JobStateLookup } from "../../logs/sse";

export const TOKEN_SCOPES = ["read", "write", "admin"] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];
export const PIPELINE_STATUSES = ["pending", "running", "success", "failure", "cancelled", "error", "skipped"] as const;
export type PipelineStatus = (typeof PIPELINE_STATUSES)[number];
export const JOB_STATUSES = ["waiting", "queued", "running", "success", "failure", "cancelled", "skipped", "timed_out", "error"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface RepositoryRecord {
  id: number;
  forge: string;
  fullName: string;
  apiUrl: string | null;
  createdAt: Date;
}

export interface PipelineRecord {
  id: number;
  repositoryId: number;
  number: number;
  name: string;
  file: string;
  event: string;
  ref: string;
  branch: string | null;
  tag: string | null;
  sha: string;
  status: string;
  error: string | null;
  fromFork: boolean;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface JobRecord {
  id: number;
  pipelineId: number;
  key: string;
  name: string;
  needs: string[];
  status: string;
  attempt: number;
  exitCode: number | null;
  failedStep: number | null;
  detail: string | null;
  queuedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface StepRecord {
  index: number;
  name: string;
  attempt: number;
  status: string;
  exitCode: number | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface RepositoriesPort {
  listRepositories(): Promise<RepositoryRecord[]>;
  /** Undefined when there is no such repository. */
  getRepository(id: number): Promise<RepositoryRecord | undefined>;
  /** Rejects with InputError code repository_exists when the forge already has that name. */
  createRepository(input: {
    forge: string;
    fullName: string;
    apiUrl?: string | null;
    credentials?: unknown;
    webhookSecrets?: string[];
    maxConcurrentJobs?: number | null;
    settings?: Record<string, unknown>;
  }): Promise<RepositoryRecord>;
}

export interface PipelineQuery {
  repositoryId?: number;
  branch?: string;
  status?: PipelineStatus[];
  limit?: number;
  cursor?: string;
}

export interface PipelinesPort {
  /** Newest first; `nextCursor` (opaque) gives the next page, null after the last. */
  listPipelines(query: PipelineQuery): Promise<{ pipelines: PipelineRecord[]; nextCursor: string | null }>;
  getPipeline(id: number): Promise<(PipelineRecord & { jobs: JobRecord[] }) | undefined>;
  /** Steps of every attempt, oldest attempt first. */
  getJob(id: number): Promise<(JobRecord & { steps: StepRecord[] }) | undefined>;
}

export type RetryOutcome =
  | { outcome: "retried"; pipeline: { id: number; number: number; status: string } }
  | { outcome: "not_found" }
  | { outcome: "conflict"; reason: string };

export interface PipelineControlPort {
  /**
   * Records the cancel (running jobs are stopped by their runners afterwards). `already_finished`
   * changes nothing.
   */
  cancelPipeline(id: number, options: { reason: string }): Promise<{ outcome: "not_found" | "already_finished" | "cancelled" }>;
  /**
   * Whole: a new pipeline from the same plan at the same commit. `failedOnly`: the same pipeline's
   * failed jobs (and those they held back) run again; refused (`conflict`) while it runs or when
   * nothing failed.
   */
  retry(id: number, options: { failedOnly: boolean }): Promise<RetryOutcome>;
}

export type TriggerInputs = Record<string, string | number | boolean>;

export interface TriggerRequest {
  /** Branch, tag or full ref; the repository's default branch when absent. */
  ref?: string;
  inputs?: TriggerInputs;
  /** Only the pipeline with this name or file. */
  pipeline?: string;
  /** Who asked: the API token's name, kept with the stored request. */
  actor?: string;
}

/** Same shape as src/app/trigger-pipeline.ts's TriggerResult. */
export type TriggerResult =
  | { status: "created"; sha: string; ref: string; pipelines: Array<{ id: number; number: number; name: string; status: string }> }
  | { status: "not_triggered"; sha: string; ref: string; reason: string }
  /** Stored, to be processed once the forge answers again. */
  | { status: "pending"; deliveryId: number };

/** A manual trigger of a known repository; bad input (an unknown ref, bad inputs) is thrown as InputError. */
export type TriggerPort = (repositoryId: number, request: TriggerRequest) => Promise<TriggerResult>;

export interface TokenInfo {
  id: number;
  name: string;
  scopes: TokenScope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
}

export interface TokensPort {
  /** Undefined when the token is unknown, revoked or expired. */
  verifyToken(token: string): Promise<{ id: number; name: string; scopes: TokenScope[] } | undefined>;
  /** The plain token is in the result only: it cannot be shown again. */
  createToken(input: { name: string; scopes: TokenScope[]; expiresAt: Date | null }): Promise<TokenInfo & { token: string }>;
  listTokens(): Promise<TokenInfo[]>;
  /** False when there was no such token. */
  revokeToken(id: number): Promise<boolean>;
}

export interface JobLogsPort {
  hub: LogHub;
  store: LogStore;
  /** Finished = a final status and the log writer closed; null for an unknown job. */
  jobState: JobStateLookup;
  /** SSE comment interval (default 15 s). */
  heartbeatMs?: number;
}

export const RELEASE_PHASES = ["publishing", "progressing", "paused", "rolling-back", "promoted", "rolled-back", "aborted", "failed"] as const;

export interface ReleaseRecord {
  id: number;
  jobId: number;
  pipelineId: number;
  repositoryId: number;
  target: string;
  targetType: string;
  phase: string;
  version: string | null;
  weight: number;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  pipelineNumber: number;
  /** The repository's full name. */
  repository: string;
  /** The release job's detail: the summary of the last tick, or why it waits. */
  jobDetail: string | null;
}

export interface ReleaseDetailRecord extends ReleaseRecord {
  /** The controller's ReleaseState (src/release/release-state.ts), as stored. */
  state: unknown;
  /** The release job's PlannedRelease (src/pipeline/plan-types.ts), for the strategy's steps. */
  spec: unknown;
  events: Array<{ at: Date; fromPhase: string; toPhase: string; weight: number; reason: string }>;
  pendingCommands: Array<{ id: number; command: string; requestedBy: string }>;
}

/** src/store/releases-store.ts implements it as it is. */
export interface ReleasesPort {
  /** Newest first (by id); `cursor` keeps releases with a smaller id; `active`: not finished. */
  list(query: { repositoryId?: number; target?: string; active?: boolean; limit?: number; cursor?: number }): Promise<ReleaseRecord[]>;
  get(id: number): Promise<ReleaseDetailRecord | undefined>;
  /** Queued for the replica ticking the release, which it wakes; it decides again whether the command applies. */
  queueCommand(releaseId: number, command: string, requestedBy: string): Promise<{ id: number; command: string; requestedBy: string }>;
  /** The release started by this release job, if it started. */
  latestIdForPipeline(pipelineId: number): Promise<number | undefined>;
}

export interface ApiDeps {
  repositories: RepositoriesPort;
  pipelines: PipelinesPort;
  control: PipelineControlPort;
  trigger: TriggerPort;
  tokens: TokensPort;
  logs: JobLogsPort;
  releases: ReleasesPort;
  /** For `expiresInDays`; default the system clock. */
  now?: () => Date;
}
