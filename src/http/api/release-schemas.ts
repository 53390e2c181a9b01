// The shapes of /api/releases: queries and bodies validated with them, answers typed by them, all
// registered in schemas.ts's registries so the OpenAPI document has them as components.
import { z } from "zod";
import { RELEASE_PHASES } from "./ports";
import { countText, dateTime, idText, MAX_SAFE_DIGITS, request, response } from "./schemas";

export const RELEASE_COMMANDS = ["promote", "promote-full", "pause", "resume", "abort", "rollback"] as const;

// ---- requests ----

export const releasesQuery = z.strictObject({
  repository: idText("only releases of this repository id").optional(),
  target: z.string().min(1).optional().meta({ description: 'only releases to this target, as in `target` ("fc cn-hangzhou/api@live", "local :8080")' }),
  active: z
    .enum(["true", "false"], { message: "must be true or false" })
    .transform((text) => text === "true")
    .optional()
    .meta({ description: "true: only releases that have not finished" }),
  limit: countText("releases per page, 1 to 100 (default 50)", 1, 100).optional(),
  cursor: z.string().regex(MAX_SAFE_DIGITS, "must be the nextCursor of a previous page").optional().meta({ description: "nextCursor of the previous page" }),
});

export const promoteBody = request(
  "PromoteReleaseRequest",
  z.strictObject({
    full: z.boolean().optional().meta({ description: "skip the remaining steps: the new version takes all traffic (default: past the current step only)" }),
  }),
);

// ---- answers ----

export const releasePhase = response("ReleasePhase", z.enum(RELEASE_PHASES));

const route = z.object({ name: z.string(), value: z.string() });
export const trafficSplitSchema = response(
  "TrafficSplit",
  z.object({
    stable: z.string().nullable().meta({ description: "the version serving what the canary does not; null when nothing was served yet" }),
    canary: z.object({ version: z.string(), weight: z.number().meta({ description: "percent" }) }).nullable(),
    route: z
      .object({ header: route.optional(), cookie: route.optional() })
      .nullable()
      .meta({ description: "requests matching it reach the canary whatever its weight" }),
  }),
);

export const releaseSchema = response(
  "Release",
  z.object({
    id: z.number().int(),
    repository: z.object({ id: z.number().int(), fullName: z.string() }),
    pipeline: z.object({ id: z.number().int(), number: z.number().int() }),
    jobId: z.number().int().meta({ description: "the pipeline's release job" }),
    target: z.string().meta({ description: 'the alias traffic moves on: "fc cn-hangzhou/api@live", "sae cn-hangzhou/<app id>", "local :8080"' }),
    targetType: z.string().meta({ description: "fc, sae or local" }),
    phase: releasePhase,
    version: z.string().nullable().meta({ description: "the new version, once published" }),
    weight: z.number().meta({ description: "the new version's share of traffic in percent (100 once promoted)" }),
    summary: z.string().meta({ description: "where it stands, in a line" }),
    createdAt: dateTime("started"),
    updatedAt: dateTime("last changed"),
    finishedAt: dateTime("finished").nullable(),
  }),
);

export const releaseList = response(
  "ReleaseList",
  z.object({ releases: z.array(releaseSchema), nextCursor: z.string().nullable().meta({ description: "cursor of the next page; null after the last" }) }),
);

const releaseStep = response(
  "ReleaseStep",
  z.object({
    index: z.number().int().meta({ description: "from 0" }),
    kind: z.enum(["weight", "pause", "analysis"]),
    description: z.string().meta({ description: '"weight 20%", "pause 5m", "pause until resumed", "analysis 3m"' }),
    weight: z.number().nullable().meta({ description: "percent, for a weight step" }),
    durationMs: z.number().nullable().meta({ description: "for a pause or an analysis step; null for a pause until resumed" }),
    status: z.enum(["done", "current", "pending"]),
  }),
);

const verdict = z.enum(["pass", "fail", "inconclusive"]);
const measurement = response(
  "ReleaseMeasurement",
  z.object({
    at: dateTime("end of the window measured"),
    outcome: verdict,
    metrics: z.array(
      z.object({
        name: z.string(),
        value: z.number().nullable().meta({ description: "null: no data" }),
        verdict,
        reason: z.string(),
      }),
    ),
  }),
);

const releaseEvent = response(
  "ReleaseEvent",
  z.object({ at: dateTime("when"), from: releasePhase, to: releasePhase, weight: z.number().meta({ description: "the new version's weight after it" }), reason: z.string() }),
);

export const releaseDetail = response(
  "ReleaseDetail",
  releaseSchema.extend({
    stepIndex: z.number().int().meta({ description: "the current step (from 0); the number of steps once all are done" }),
    steps: z.array(releaseStep),
    live: trafficSplitSchema.nullable().meta({ description: "the split the target serves, as last confirmed" }),
    previous: trafficSplitSchema.nullable().meta({ description: "the split before the release: what a rollback restores" }),
    pause: z.object({ reason: z.string(), by: z.enum(["person", "step", "analysis"]) }).nullable(),
    analysis: z.object({
      last: measurement.nullable(),
      failures: z.number().int().meta({ description: "failed measurements so far" }),
      inconclusive: z.number().int().meta({ description: "measurements without enough data so far" }),
    }),
    retry: z
      .object({ attempts: z.number().int(), error: z.string(), nextAt: dateTime("next attempt") })
      .nullable()
      .meta({ description: "a provider call that failed and is retried" }),
    result: z.string().nullable().meta({ description: "why it ended" }),
    events: z.array(releaseEvent).meta({ description: "every phase change, oldest first" }),
    pendingCommands: z.array(z.object({ id: z.number().int(), command: z.enum(RELEASE_COMMANDS), requestedBy: z.string() })).meta({ description: "asked, not applied yet" }),
  }),
);

export const commandAccepted = response(
  "ReleaseCommandAccepted",
  z.object({ release: z.number().int(), command: z.enum(RELEASE_COMMANDS), queued: z.literal(true) }),
);

export const pipelineRelease = response(
  "PipelineRelease",
  z.object({ release: releaseSchema.nullable().meta({ description: "null: the pipeline has no release, or it has not started (its release job says why)" }) }),
);
