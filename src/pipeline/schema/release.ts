// `release:` — publish the built artifact as a new immutable version and move traffic onto it
// step by step, judged by analysis (executed by src/release; validated fully here).
import { z } from "zod";
import { condition, duration, envMap, identifier, nonEmptyString, template } from "./primitives";

const artifactRef = z.strictObject({
  from: identifier.describe("The job whose artifacts hold the release."),
  path: z.string().min(1).optional().describe("File or directory inside that job's artifacts."),
});

const fcTarget = z.strictObject({
  type: z.literal("fc"),
  region: nonEmptyString.describe("e.g. cn-hangzhou"),
  function: nonEmptyString.pipe(template()),
  alias: z.string().min(1).default("live"),
  image: template().optional().describe("Container image instead of a code zip."),
  runtime: z.string().optional().describe("e.g. nodejs20, python3.10, custom.debian10"),
  handler: z.string().optional(),
  "memory-mb": z.number().int().min(128).max(32768).multipleOf(64, { message: "FC memory is a multiple of 64 MB" }).optional(),
  cpu: z.number().positive().optional(),
  timeout: duration.optional(),
  "instance-concurrency": z.number().int().min(1).max(200).optional(),
  env: envMap.optional(),
  "oss-bucket": z.string().optional().describe("Upload large code packages through this OSS bucket."),
});

const saeTarget = z.strictObject({
  type: z.literal("sae"),
  region: nonEmptyString,
  "app-id": nonEmptyString,
  image: template().optional(),
  "package-url": template().optional(),
  "package-version": template().optional(),
  "min-ready-instances": z.number().int().min(0).optional(),
  "ab-gateway": z
    .union([
      z.strictObject({ "alb-ingress": nonEmptyString.describe("Id of the SAE-managed ALB ingress in front of the application.") }),
      z.strictObject({ "spring-cloud-path": z.string().startsWith("/").describe("Path the Spring Cloud application's routes apply to.") }),
    ])
    .optional()
    .describe("Where SAE applies strategy.ab's header or cookie route: its grey tag routes work only behind these."),
});

const localTarget = z.strictObject({
  type: z.literal("local"),
  command: nonEmptyString.describe("Starts one version; PORT is set for it."),
  port: z.number().int().min(1).max(65535).describe("Where the router listens."),
  "health-path": z.string().startsWith("/").optional(),
  directory: z.string().optional().describe("Working directory inside the artifact."),
  env: envMap.optional(),
});

export const target = z.discriminatedUnion("type", [fcTarget, saeTarget, localTarget]);

const analysisStepOverrides = z.strictObject({
  duration: duration.optional().describe("How long this analysis step runs. Default: 3 intervals."),
});

export const canaryStep = z.union([
  z.strictObject({ weight: z.number().min(0).max(100).describe("Percent of traffic on the new version.") }),
  z.strictObject({
    pause: z.union([duration, z.strictObject({}).describe("{} waits until a person resumes or promotes.")]),
  }),
  z.strictObject({ analysis: analysisStepOverrides }),
]);

const threshold = z.union([z.number(), z.string().regex(/^\d+(\.\d+)?(%|ms|s)?$/, { message: "expected a number, a percentage (1%) or a latency (500ms)" })]);

export const BUILTIN_METRICS = ["error-rate", "latency-p50", "latency-p95", "latency-p99", "request-rate"] as const;

const metric = z
  .strictObject({
    name: nonEmptyString,
    builtin: z.enum(BUILTIN_METRICS).optional().describe("Figures the target reports itself (default: the metric's name)."),
    prometheus: z
      .strictObject({
        url: z.url(),
        query: nonEmptyString.describe("PromQL; {{version}} is replaced by the version being judged."),
      })
      .optional(),
    max: threshold.optional(),
    min: threshold.optional(),
  })
  .superRefine((value, ctx) => {
    if (value.max === undefined && value.min === undefined) {
      ctx.addIssue({ code: "custom", message: `metric '${value.name}' needs a threshold`, params: { hint: "add max: or min:" } });
    }
    if (value.builtin !== undefined && value.prometheus !== undefined) {
      ctx.addIssue({ code: "custom", path: ["prometheus"], message: "a metric is either builtin or prometheus, not both" });
    }
    if (value.builtin === undefined && value.prometheus === undefined && !(BUILTIN_METRICS as readonly string[]).includes(value.name)) {
      ctx.addIssue({
        code: "custom",
        path: ["name"],
        message: `'${value.name}' is not a builtin metric and has no prometheus query`,
        params: { hint: `builtin metrics: ${BUILTIN_METRICS.join(", ")}` },
      });
    }
  });

export const analysis = z.strictObject({
  interval: duration.default("1m"),
  "failure-limit": z.number().int().min(0).default(0).describe("Failed measurements tolerated before aborting."),
  "inconclusive-limit": z.number().int().min(0).default(2).describe("Measurements without data tolerated before pausing for a person."),
  "min-requests": z.number().int().min(0).default(20).describe("Fewer requests than this in an interval is no data (inconclusive)."),
  metrics: z.array(metric).min(1),
});

const abRoute = z.strictObject({
  header: z.strictObject({ name: nonEmptyString, value: nonEmptyString }).optional(),
  cookie: z.strictObject({ name: nonEmptyString, value: nonEmptyString }).optional(),
});

export const release = z.strictObject({
  needs: z.union([identifier, z.array(identifier)]).optional().describe("Jobs that must succeed first. Default: all jobs."),
  if: condition().optional(),
  artifact: artifactRef.optional(),
  target,
  strategy: z
    .strictObject({
      steps: z.array(canaryStep).min(1),
      ab: abRoute.optional().describe("Requests matching this header or cookie always reach the new version."),
    })
    .optional()
    .describe("Default: straight to 100%."),
  analysis: analysis.optional(),
  "progress-deadline": duration.optional().describe("A step that makes no progress for this long aborts. Default 30m."),
  rollback: z.enum(["auto", "manual"]).default("auto"),
  "keep-versions": z.number().int().min(1).max(100).default(5),
  notify: z.strictObject({ webhook: z.url() }).optional(),
});

export type ReleaseInput = z.input<typeof release>;
