// The REST API's shapes as zod schemas: requests are validated with them, answers are typed by
// them, and the OpenAPI document is generated from them (every schema registered here becomes a
// component). Bodies and queries are strict: a misspelt field is refused, not silently ignored.
import { z } from "zod";
import { JOB_STATUSES, PIPELINE_STATUSES, TOKEN_SCOPES } from "./ports";

/** Request shapes (converted for the document as inputs) and answer shapes (as outputs). */
export const requestSchemas = z.registry<{ id: string }>();
export const responseSchemas = z.registry<{ id: string }>();

export function request<T extends z.ZodType>(id: string, schema: T): T {
  requestSchemas.add(schema, { id });
  return schema;
}
export function response<T extends z.ZodType>(id: string, schema: T): T {
  responseSchemas.add(schema, { id });
  return schema;
}

export const MAX_SAFE_DIGITS = /^[1-9][0-9]{0,14}$/;

/** A positive id as it comes in a path or a query: digits only. */
export const idText = (what: string) =>
  z
    .string()
    .regex(MAX_SAFE_DIGITS, `must be a positive integer`)
    .transform(Number)
    .meta({ description: what });

export const countText = (what: string, min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]{1,15}$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().min(min).max(max))
    .meta({ description: what });

export const idParams = z.object({ id: idText("the id") });

export const dateTime = (what: string) => z.string().meta({ format: "date-time", description: what });

// ---- requests ----

export const repositoriesQuery = z.strictObject({
  name: z.string().min(1).optional().meta({ description: "only the repository with this full name (OWNER/NAME, GROUP/PROJECT, or the absolute path of a local one)" }),
});

export const pipelinesQuery = z.strictObject({
  repository: idText("only pipelines of this repository id").optional(),
  branch: z.string().min(1).optional().meta({ description: "only pipelines of this branch" }),
  status: z
    .string()
    .transform((text) => text.split(",").map((part) => part.trim()))
    .pipe(z.array(z.enum(PIPELINE_STATUSES)).min(1))
    .optional()
    .meta({ description: `comma-separated statuses: ${PIPELINE_STATUSES.join(", ")}` }),
  limit: countText("pipelines per page, 1 to 200 (default 50)", 1, 200).optional(),
  cursor: z.string().regex(MAX_SAFE_DIGITS, "must be the nextCursor of a previous page").optional().meta({ description: "nextCursor of the previous page" }),
});

export const logPageQuery = z.strictObject({
  after: countText("lines after this line number (default 0: from the start)", 0, Number.MAX_SAFE_INTEGER).optional(),
  limit: countText("lines at most, 1 to 5000 (default 1000)", 1, 5000).optional(),
});

export const logStreamQuery = z.strictObject({
  after: countText("start after this line number (Last-Event-ID wins when sent)", 0, Number.MAX_SAFE_INTEGER).optional(),
});

export const triggerBody = request(
  "TriggerRequest",
  z.strictObject({
    ref: z.string().trim().min(1).optional().meta({ description: "branch, tag or full ref (default: the repository's default branch)" }),
    inputs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional().meta({ description: "values of the manual trigger's inputs" }),
    pipeline: z.string().trim().min(1).optional().meta({ description: "only the pipeline with this name or file" }),
  }),
);

export const createRepositoryBody = request(
  "CreateRepositoryRequest",
  z.strictObject({
    forge: z.enum(["github", "gitlab", "local"]),
    fullName: z.string().trim().min(1).meta({ description: "OWNER/NAME, GROUP/PROJECT, or the absolute path of a local git repository" }),
    apiUrl: z.url().optional().meta({ description: "API base of GitHub Enterprise or a self-managed GitLab" }),
    credentials: z
      .union([z.strictObject({ token: z.string().min(1) }), z.strictObject({ appId: z.union([z.string().min(1), z.number().int()]), privateKey: z.string().min(1) })])
      .optional()
      .meta({ description: "a token, or a GitHub App id and private key; stored sealed, never returned" }),
    webhookSecrets: z.array(z.string().min(1)).max(10).optional().meta({ description: "secrets its webhooks may be signed with (several while rotating)" }),
    maxConcurrentJobs: z.number().int().min(1).optional(),
    cloneUrl: z.string().min(1).optional().meta({ description: "where jobs clone the code from (default: the forge's usual URL)" }),
  }),
);

export const retryBody = request(
  "RetryRequest",
  z.strictObject({
    failedOnly: z.boolean().optional().meta({ description: "run the failed jobs (and those they held back) of the same pipeline again, instead of a new pipeline" }),
  }),
);

export const createTokenBody = request(
  "CreateTokenRequest",
  z.strictObject({
    name: z.string().trim().min(1).max(200),
    scopes: z.array(z.enum(TOKEN_SCOPES)).min(1).meta({ description: "admin implies write, write implies read" }),
    expiresInDays: z.number().positive().max(36_500).optional(),
  }),
);

// ---- answers ----

export const errorBody = response(
  "Error",
  z.object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      field: z.string().optional().meta({ description: "dotted path of the first invalid field (code invalid_request)" }),
    }),
  }),
);

export const repositorySchema = response(
  "Repository",
  z.object({
    id: z.number().int(),
    forge: z.enum(["github", "gitlab", "local"]),
    fullName: z.string().meta({ description: "OWNER/NAME, GROUP/PROJECT, or the absolute path of a local repository" }),
    apiUrl: z.string().nullable(),
    createdAt: dateTime("when it was added"),
  }),
);
export const repositoryList = response("RepositoryList", z.object({ repositories: z.array(repositorySchema) }));

export const pipelineStatus = response("PipelineStatus", z.enum(PIPELINE_STATUSES));
export const jobStatus = response("JobStatus", z.enum(JOB_STATUSES));

export const pipelineSchema = response(
  "Pipeline",
  z.object({
    id: z.number().int(),
    repositoryId: z.number().int(),
    number: z.number().int().meta({ description: "per repository, from 1" }),
    name: z.string(),
    file: z.string(),
    event: z.string(),
    ref: z.string(),
    branch: z.string().nullable(),
    tag: z.string().nullable(),
    sha: z.string(),
    status: pipelineStatus,
    error: z.string().nullable().meta({ description: "for status error: every problem of the pipeline file" }),
    fromFork: z.boolean(),
    createdAt: dateTime("created"),
    startedAt: dateTime("first job started").nullable(),
    finishedAt: dateTime("finished").nullable(),
  }),
);
export const pipelineList = response(
  "PipelineList",
  z.object({ pipelines: z.array(pipelineSchema), nextCursor: z.string().nullable().meta({ description: "cursor of the next page; null after the last" }) }),
);

export const jobSchema = response(
  "Job",
  z.object({
    id: z.number().int(),
    pipelineId: z.number().int(),
    key: z.string(),
    name: z.string(),
    needs: z.array(z.string()).meta({ description: "keys of the jobs it waits for" }),
    status: jobStatus,
    attempt: z.number().int().meta({ description: "attempts started so far (0 before the first)" }),
    exitCode: z.number().int().nullable(),
    failedStep: z.number().int().nullable(),
    detail: z.string().nullable().meta({ description: "why it was skipped, cancelled or failed" }),
    queuedAt: dateTime("queued").nullable(),
    startedAt: dateTime("started").nullable(),
    finishedAt: dateTime("finished").nullable(),
  }),
);
export const pipelineDetail = response("PipelineDetail", pipelineSchema.extend({ jobs: z.array(jobSchema) }));

export const stepSchema = response(
  "Step",
  z.object({
    index: z.number().int(),
    name: z.string(),
    attempt: z.number().int(),
    status: z.string(),
    exitCode: z.number().int().nullable(),
    startedAt: dateTime("started").nullable(),
    finishedAt: dateTime("finished").nullable(),
  }),
);
export const jobDetail = response("JobDetail", jobSchema.extend({ steps: z.array(stepSchema).meta({ description: "steps of every attempt, oldest attempt first" }) }));

export const logLine = response(
  "LogLine",
  z.object({
    number: z.number().int(),
    at: z.number().int().meta({ description: "milliseconds since the epoch" }),
    attempt: z.number().int(),
    step: z.number().int().nullable(),
    stream: z.enum(["stdout", "stderr", "system"]),
    text: z.string(),
  }),
);
export const logPage = response(
  "LogPage",
  z.object({
    jobId: z.number().int(),
    lines: z.array(logLine),
    next: z.number().int().meta({ description: "`after` for the next page" }),
    finished: z.boolean().meta({ description: "the job finished: no line will come after the last one" }),
    more: z.boolean().meta({ description: "more lines may be read right away" }),
  }),
);

export const cancelResult = response("CancelResult", z.object({ outcome: z.enum(["cancelled", "already_finished"]), status: pipelineStatus }));
export const retryResult = response(
  "RetryResult",
  z.object({ pipeline: z.object({ id: z.number().int(), number: z.number().int(), status: pipelineStatus }) }),
);

const triggeredPipeline = z.object({ id: z.number().int(), number: z.number().int(), name: z.string(), status: pipelineStatus });
export const triggerCreated = response("TriggerCreated", z.object({ sha: z.string(), ref: z.string(), pipelines: z.array(triggeredPipeline) }));
export const triggerNothing = response(
  "TriggerNotTriggered",
  z.object({ sha: z.string(), ref: z.string(), pipelines: z.array(triggeredPipeline).max(0), reason: z.string() }),
);
export const triggerPending = response(
  "TriggerPending",
  z.object({ deliveryId: z.number().int().meta({ description: "the stored delivery, processed once the forge answers" }), status: z.literal("pending") }),
);

const tokenScope = z.enum(TOKEN_SCOPES);
export const tokenSchema = response(
  "Token",
  z.object({
    id: z.number().int(),
    name: z.string(),
    scopes: z.array(tokenScope),
    createdAt: dateTime("created"),
    lastUsedAt: dateTime("last used (updated at most once a minute)").nullable(),
    expiresAt: dateTime("expires").nullable(),
  }),
);
export const tokenList = response("TokenList", z.object({ tokens: z.array(tokenSchema) }));
export const createdToken = response(
  "CreatedToken",
  z.object({
    id: z.number().int(),
    name: z.string(),
    scopes: z.array(tokenScope),
    token: z.string().meta({ description: "the token itself, shown this once" }),
    expiresAt: dateTime("expires").nullable(),
  }),
);
