// The CLI's client of gust serve's REST API (/api): finds the server and the token (flags, then
// environment, then <data dir>/cli-token), sends requests, and turns error bodies into ApiError,
// whose message the CLI prints as it is. The token only ever goes into the Authorization header —
// no message, hint or error names it.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { GustError, InputError } from "../errors";
import { UsageError, type OptionSpec } from "./args";
import type { CliContext } from "./context";
import { readEventStream, type StreamEvent } from "./output/event-stream";

export const API_OPTIONS = {
  server: { type: "string" },
  token: { type: "string" },
  "data-dir": { type: "string" },
} as const satisfies OptionSpec;

export const API_HELP = `  --server URL        gust serve's address (default: $GUST_SERVER, else http://127.0.0.1:8080)
  --token T           an API token (default: $GUST_TOKEN, else the file <data dir>/cli-token;
                      prefer the variable: a command line is visible to other users)
  --data-dir DIR      gust serve's data directory, for cli-token (default: $GUST_DATA_DIR, else ./.gust)`;

export const DEFAULT_SERVER = "http://127.0.0.1:8080";

export type PipelineStatus = "pending" | "running" | "success" | "failure" | "cancelled" | "error" | "skipped";
export type JobStatus = "waiting" | "queued" | "running" | "success" | "failure" | "cancelled" | "skipped" | "timed_out" | "error";
export const PIPELINE_STATUSES: readonly PipelineStatus[] = ["pending", "running", "success", "failure", "cancelled", "error", "skipped"];
export const JOB_STATUSES: readonly JobStatus[] = ["waiting", "queued", "running", "success", "failure", "cancelled", "skipped", "timed_out", "error"];

export interface Repository {
  id: number;
  forge: "github" | "gitlab" | "local";
  fullName: string;
  apiUrl: string | null;
  createdAt: string;
}

export interface Pipeline {
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
  status: PipelineStatus;
  error: string | null;
  fromFork: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Job {
  id: number;
  pipelineId: number;
  key: string;
  name: string;
  needs: string[];
  status: JobStatus;
  attempt: number;
  exitCode: number | null;
  failedStep: number | null;
  detail: string | null;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Step {
  index: number;
  name: string;
  attempt: number;
  status: string;
  exitCode: number | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface LogLine {
  number: number;
  /** Milliseconds since the epoch. */
  at: number;
  attempt: number;
  step: number | null;
  stream: "stdout" | "stderr" | "system";
  text: string;
}

export interface LogPage {
  jobId: number;
  lines: LogLine[];
  next: number;
  finished: boolean;
  more: boolean;
}

export type Inputs = Record<string, string | number | boolean>;

export type ReleasePhase = "publishing" | "progressing" | "paused" | "rolling-back" | "promoted" | "rolled-back" | "aborted" | "failed";
export type ReleaseCommand = "promote" | "promote-full" | "pause" | "resume" | "abort" | "rollback";

export interface Release {
  id: number;
  repository: { id: number; fullName: string };
  pipeline: { id: number; number: number };
  jobId: number;
  target: string;
  targetType: string;
  phase: ReleasePhase;
  version: string | null;
  weight: number;
  summary: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface TrafficSplit {
  stable: string | null;
  canary: { version: string; weight: number } | null;
  route: { header?: { name: string; value: string }; cookie?: { name: string; value: string } } | null;
}

export interface ReleaseDetail extends Release {
  stepIndex: number;
  steps: Array<{ index: number; kind: "weight" | "pause" | "analysis"; description: string; weight: number | null; durationMs: number | null; status: "done" | "current" | "pending" }>;
  live: TrafficSplit | null;
  previous: TrafficSplit | null;
  pause: { reason: string; by: "person" | "step" | "analysis" } | null;
  analysis: {
    last: { at: string; outcome: "pass" | "fail" | "inconclusive"; metrics: Array<{ name: string; value: number | null; verdict: "pass" | "fail" | "inconclusive"; reason: string }> } | null;
    failures: number;
    inconclusive: number;
  };
  retry: { attempts: number; error: string; nextAt: string } | null;
  result: string | null;
  events: Array<{ at: string; from: ReleasePhase; to: ReleasePhase; weight: number; reason: string }>;
  pendingCommands: Array<{ id: number; command: ReleaseCommand; requestedBy: string }>;
}

export type TriggerResult =
  | { kind: "created"; sha: string; ref: string; pipelines: Array<Pick<Pipeline, "id" | "number" | "name" | "status">> }
  | { kind: "nothing"; sha: string; ref: string; reason: string }
  | { kind: "pending"; deliveryId: string };

/**
 * A request the server refused or could not answer. `status` is 0 when there was no answer at all
 * (connection refused, reset); `retryable` says whether the same request may succeed later.
 */
export class ApiError extends GustError {
  constructor(
    message: string,
    readonly status: number,
    code: string,
    readonly field?: string,
  ) {
    const retryable = status === 0 || status === 502 || status === 503 || status === 504;
    super(message, { fault: status === 0 || status >= 500 ? "infrastructure" : "user", retryable, code });
  }
}

export interface ApiSettings {
  baseUrl: string;
  token: string | undefined;
  /** Where the token came from, for hints: "--token", "GUST_TOKEN" or the file's path. */
  tokenSource: string | undefined;
  /** The file a token is looked for when no flag or variable gives one. */
  tokenFile: string;
}

export function apiSettings(values: { server?: string | undefined; token?: string | undefined; "data-dir"?: string | undefined }, ctx: Pick<CliContext, "env" | "cwd">): ApiSettings {
  const [server, serverSource] = values.server !== undefined ? [values.server, "--server"] : ctx.env.GUST_SERVER ? [ctx.env.GUST_SERVER, "GUST_SERVER"] : [DEFAULT_SERVER, "default"];
  const baseUrl = parseServerUrl(server, serverSource);
  const tokenFile = join(resolve(ctx.cwd, values["data-dir"] ?? (ctx.env.GUST_DATA_DIR || ".gust")), "cli-token");
  const [token, tokenSource] = values.token !== undefined ? [values.token, "--token"] : ctx.env.GUST_TOKEN ? [ctx.env.GUST_TOKEN, "GUST_TOKEN"] : [readTokenFile(tokenFile), tokenFile];
  // fetch would reject a header with a newline in an error that quotes the whole header value.
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) throw new UsageError(`the token from ${tokenSource} has spaces or control characters; it is not a Gust token`);
  return { baseUrl, token, tokenSource: token === undefined ? undefined : tokenSource, tokenFile };
}

function parseServerUrl(text: string, source: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${source} expects a URL like ${DEFAULT_SERVER}, got '${text}'`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`${source} expects an http or https URL, got '${text}'`);
  if (url.username || url.password) throw new UsageError(`${source}: put credentials in the token, not in the URL`);
  return url.href.replace(/\/+$/, "");
}

function readTokenFile(path: string): string | undefined {
  try {
    const token = readFileSync(path, "utf8").trim();
    return token === "" ? undefined : token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new InputError(`cannot read the token file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

type Query = Record<string, string | number | undefined>;

export class ApiClient {
  constructor(readonly settings: ApiSettings) {}

  get baseUrl(): string {
    return this.settings.baseUrl;
  }

  async listRepositories(name?: string): Promise<Repository[]> {
    return (await this.json<{ repositories: Repository[] }>("GET", "/api/repositories", { query: { name } })).body.repositories;
  }

  async createRepository(body: Record<string, unknown>): Promise<Repository> {
    return (await this.json<Repository>("POST", "/api/repositories", { body })).body;
  }

  async getRepository(id: number): Promise<Repository> {
    return (await this.json<Repository>("GET", `/api/repositories/${id}`)).body;
  }

  async trigger(repositoryId: number, body: { ref?: string; inputs?: Inputs; pipeline?: string }): Promise<TriggerResult> {
    const { status, body: answer } = await this.json<Record<string, unknown>>("POST", `/api/repositories/${repositoryId}/trigger`, { body });
    if (status === 202) return { kind: "pending", deliveryId: String(answer.deliveryId) };
    const created = answer as { sha: string; ref: string; pipelines: Array<Pick<Pipeline, "id" | "number" | "name" | "status">>; reason?: string };
    if (created.pipelines.length === 0) return { kind: "nothing", sha: created.sha, ref: created.ref, reason: created.reason ?? "no pipeline runs for this trigger" };
    return { kind: "created", sha: created.sha, ref: created.ref, pipelines: created.pipelines };
  }

  async listPipelines(query: { repository?: number; branch?: string; status?: string[]; limit?: number; cursor?: string }): Promise<{ pipelines: Pipeline[]; nextCursor: string | null }> {
    const { repository, branch, status, limit, cursor } = query;
    return (await this.json<{ pipelines: Pipeline[]; nextCursor: string | null }>("GET", "/api/pipelines", { query: { repository, branch, status: status?.length ? status.join(",") : undefined, limit, cursor } })).body;
  }

  async getPipeline(id: number): Promise<Pipeline & { jobs: Job[] }> {
    return (await this.json<Pipeline & { jobs: Job[] }>("GET", `/api/pipelines/${id}`)).body;
  }

  async cancelPipeline(id: number): Promise<{ outcome: "cancelled" | "already_finished"; status: PipelineStatus }> {
    return (await this.json<{ outcome: "cancelled" | "already_finished"; status: PipelineStatus }>("POST", `/api/pipelines/${id}/cancel`)).body;
  }

  async retryPipeline(id: number, failedOnly: boolean): Promise<{ pipeline: Pick<Pipeline, "id" | "number" | "status"> }> {
    return (await this.json<{ pipeline: Pick<Pipeline, "id" | "number" | "status"> }>("POST", `/api/pipelines/${id}/retry`, { body: { failedOnly } })).body;
  }

  async getJob(id: number): Promise<Job & { steps: Step[] }> {
    return (await this.json<Job & { steps: Step[] }>("GET", `/api/jobs/${id}`)).body;
  }

  async jobLogs(id: number, after: number, limit?: number): Promise<LogPage> {
    return (await this.json<LogPage>("GET", `/api/jobs/${id}/logs`, { query: { after, limit } })).body;
  }

  /**
   * The job's log as Server-Sent Events from line `after` on (sent as Last-Event-ID too, which
   * the server prefers when resuming). The iteration ends when the server ends the response;
   * a connection lost on the way is an ApiError with status 0.
   */
  async *logStream(id: number, after: number, signal?: AbortSignal): AsyncGenerator<StreamEvent> {
    const response = await this.send("GET", `/api/jobs/${id}/logs/stream`, { query: { after }, headers: { Accept: "text/event-stream", "Last-Event-ID": String(after) }, signal });
    if (!response.body) return;
    try {
      yield* readEventStream(response.body);
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ApiError(`the log stream of job ${id} from ${this.baseUrl} was cut: ${(error as Error).message}`, 0, "connection_lost");
    }
  }

  async listReleases(query: { repository?: number; target?: string; active?: boolean; limit?: number; cursor?: string }): Promise<{ releases: Release[]; nextCursor: string | null }> {
    const { repository, target, active, limit, cursor } = query;
    return (await this.json<{ releases: Release[]; nextCursor: string | null }>("GET", "/api/releases", { query: { repository, target, active: active ? "true" : undefined, limit, cursor } })).body;
  }

  async getRelease(id: number): Promise<ReleaseDetail> {
    return (await this.json<ReleaseDetail>("GET", `/api/releases/${id}`)).body;
  }

  /** Queues the command; a command that cannot apply now is refused (ApiError 409 with the reason). */
  async releaseCommand(id: number, command: ReleaseCommand): Promise<{ release: number; command: ReleaseCommand; queued: true }> {
    const path = `/api/releases/${id}/${command === "promote-full" ? "promote" : command}`;
    return (await this.json<{ release: number; command: ReleaseCommand; queued: true }>("POST", path, command === "promote-full" ? { body: { full: true } } : {})).body;
  }

  private async json<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<{ status: number; body: T }> {
    const response = await this.send(method, path, {
      query: options.query,
      headers: options.body === undefined ? {} : { "Content-Type": "application/json" },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    try {
      return { status: response.status, body: (text === "" ? undefined : JSON.parse(text)) as T };
    } catch {
      throw new ApiError(`${method} ${path}: ${this.baseUrl} answered ${response.status} with something that is not JSON; is it gust serve?`, 502, "bad_answer");
    }
  }

  /** One request; any answer other than 2xx becomes an ApiError. */
  private async send(method: string, path: string, options: { query?: Query | undefined; headers?: Record<string, string>; body?: string | undefined; signal?: AbortSignal | undefined }): Promise<Response> {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    if (this.settings.token !== undefined) headers.Authorization = `Bearer ${this.settings.token}`;
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body: options.body, signal: options.signal ?? null });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw this.connectionError(error);
    }
    if (response.ok) return response;
    throw await this.answerError(response);
  }

  private connectionError(error: unknown): ApiError {
    const cause = (error as { cause?: { code?: string; errors?: Array<{ code?: string }> } }).cause;
    const code = cause?.code ?? cause?.errors?.[0]?.code;
    if (code === "ECONNREFUSED") return new ApiError(`cannot connect to ${this.baseUrl}: connection refused — is \`gust serve\` running at ${this.baseUrl}?`, 0, "connection_refused");
    return new ApiError(`cannot reach ${this.baseUrl}: ${code ?? (error as Error).message}`, 0, "connection_failed");
  }

  private async answerError(response: Response): Promise<ApiError> {
    const text = await response.text().catch(() => "");
    let error: { code?: unknown; message?: unknown; field?: unknown } | undefined;
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error;
    } catch {
      error = undefined;
    }
    const code = typeof error?.code === "string" ? error.code : `http_${response.status}`;
    const field = typeof error?.field === "string" ? error.field : undefined;
    let message = typeof error?.message === "string" ? error.message : `${this.baseUrl} answered ${response.status} ${response.statusText}`.trim();
    if (response.status === 401) message += `\n${this.unauthorizedHint()}`;
    return new ApiError(message, response.status, code, field);
  }

  private unauthorizedHint(): string {
    const { tokenSource, tokenFile } = this.settings;
    const where = tokenSource === undefined ? `no token was found (--token, GUST_TOKEN or ${tokenFile}); ` : `the token from ${tokenSource} was refused; `;
    return `  hint: ${where}create a token with \`gust token create\``;
  }
}

/** A pipeline or job id given on the command line. */
export function idArgument(value: string | undefined, what: string, command: string): number {
  if (value === undefined) throw new UsageError(`gust ${command} needs a ${what}\nrun 'gust ${command} --help' for the options`);
  if (!/^[1-9][0-9]{0,15}$/.test(value) || !Number.isSafeInteger(Number(value))) throw new UsageError(`${what} must be a positive whole number, got '${value}'`);
  return Number(value);
}
