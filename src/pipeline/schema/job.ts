// A job: steps run in order in one workspace (one pod on Kubernetes), with its needs, matrix,
// conditions, limits and what it hands to later jobs.
import { z } from "zod";
import { condition, duration, envMap, envName, globs, identifier, nonEmptyString, STEP_ROOTS, template } from "./primitives";

export const step = z.strictObject({
  name: z.string().optional().describe("Shown in logs; default: the first line of run."),
  run: nonEmptyString.pipe(template()).describe("Shell script, run with sh -e. ${{ }} values reach it as environment variables."),
  env: envMap.optional(),
  if: condition({ roots: STEP_ROOTS }).optional().describe("Run the step only when true. Default: success()."),
  timeout: duration.optional(),
  "continue-on-error": z.boolean().optional(),
  "working-directory": template().optional().describe("Relative to the workspace."),
  image: template().optional().describe("Container image for this step (Kubernetes); default: the job's image."),
});

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const matrix = z
  .object({
    include: z.array(z.record(identifier, scalar)).optional().describe("Extra combinations, or values added to matching ones."),
    exclude: z.array(z.record(identifier, scalar)).optional().describe("Combinations to drop."),
    "max-parallel": z.number().int().positive().optional(),
    "fail-fast": z.boolean().optional().describe("Cancel the other combinations when one fails. Default false."),
  })
  .catchall(z.array(scalar).min(1, { message: "a matrix axis needs at least one value" }))
  .describe("Axes (name: [values]) expanded into one job per combination.");

const retry = z.union([
  z.number().int().min(0).max(10),
  z.strictObject({
    count: z.number().int().min(0).max(10),
    "exit-codes": z.array(z.number().int().min(0).max(255)).min(1).optional().describe("Retry only on these exit codes. Default: any failure."),
  }),
]);

const cpu = z.union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?m?$/, { message: "expected cores such as 2, 0.5 or 500m" })]);
const memory = z.string().regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$/, { message: "expected a size such as 512Mi or 4Gi" });

const service = z.strictObject({
  image: nonEmptyString.pipe(template()),
  env: envMap.optional(),
  ports: z.array(z.number().int().min(1).max(65535)).optional(),
  command: z.array(z.string()).optional(),
});

const artifacts = z.union([
  globs,
  z.strictObject({
    paths: globs,
    "expire-in": duration.optional().describe("How long the artifact is kept. Default 7d."),
  }),
]);

const cache = z.strictObject({
  key: nonEmptyString.pipe(template({ functions: ["hashFiles"] })).describe("Cache key; ${{ hashFiles('package-lock.json') }} hashes files."),
  paths: globs,
  // The planner renders these like the key, so their expressions are checked like the key's.
  "restore-keys": z.array(nonEmptyString.pipe(template())).optional().describe("Key prefixes tried in order when the key misses."),
});

export const concurrency = z.union([
  template(),
  z.strictObject({
    group: nonEmptyString.pipe(template()),
    "cancel-in-progress": z.boolean().optional(),
  }),
]);

export const job = z.strictObject({
  name: template().optional().describe("Display name; default: the job id (with matrix values)."),
  image: template().optional().describe("Container image the steps run in (Kubernetes executor)."),
  needs: z.union([identifier, z.array(identifier)]).optional().describe("Jobs that must finish first."),
  if: condition().optional().describe("Run the job only when true. Default: success() of its needs."),
  env: envMap.optional(),
  secrets: z.array(envName).optional().describe("Names of the repository secrets this job may read, as env vars."),
  matrix: matrix.optional(),
  timeout: duration.optional().describe("Limit for the whole job. Default 1h."),
  retry: retry.optional(),
  resources: z.strictObject({ cpu: cpu.optional(), memory: memory.optional() }).optional(),
  services: z.record(identifier, service).optional().describe("Sidecar containers (Kubernetes executor)."),
  artifacts: artifacts.optional(),
  cache: cache.optional(),
  concurrency: concurrency.optional(),
  steps: z.array(step).min(1, { message: "a job needs at least one step" }),
});

export type JobInput = z.input<typeof job>;
export type StepInput = z.input<typeof step>;
