// The pipeline file: the single source of truth for validation, types and the editors' JSON Schema.
import { z } from "zod";
import { concurrency, job } from "./job";
import { envMap, identifier } from "./primitives";
import { release } from "./release";
import { triggers } from "./triggers";

export const pipelineSchema = z
  .strictObject({
    name: z.string().min(1).optional().describe("Default: the file name."),
    on: triggers.optional(),
    env: envMap.optional(),
    concurrency: concurrency.optional().describe("Pipelines of one group run one at a time."),
    jobs: z
      .record(identifier, job)
      .refine((jobs) => Object.keys(jobs).length > 0, { message: "a pipeline needs at least one job" }),
    release: release.optional(),
  })
  .describe("A Gust pipeline (.gust.yml or .gust/*.yml).");

export type PipelineInput = z.input<typeof pipelineSchema>;
export type PipelineDocument = z.output<typeof pipelineSchema>;
export type JobDocument = PipelineDocument["jobs"][string];
export type StepDocument = JobDocument["steps"][number];
export type ReleaseDocument = NonNullable<PipelineDocument["release"]>;

export function pipelineJsonSchema(): object {
  return z.toJSONSchema(pipelineSchema, { io: "input", unrepresentable: "any", target: "draft-7" });
}
