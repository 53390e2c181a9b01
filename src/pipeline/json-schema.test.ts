// The editors' JSON Schema, generated from the zod schema.
import { describe, expect, it } from "vitest";
import { pipelineJsonSchema } from "./schema/pipeline";

type Schema = Record<string, any>;

const schema = pipelineJsonSchema() as Schema;
const job = schema.properties.jobs.additionalProperties as Schema;

describe("pipelineJsonSchema", () => {
  it("is plain JSON that survives a round trip", () => {
    const text = JSON.stringify(schema);
    expect(JSON.parse(text)).toEqual(schema);
  });

  it("is a draft-7 schema of a closed object that requires jobs", () => {
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema.type).toBe("object");
    expect(schema.required).toEqual(["jobs"]);
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties).sort()).toEqual(["concurrency", "env", "jobs", "name", "on", "release"]);
  });

  it("keys jobs by identifier and closes job objects", () => {
    expect(schema.properties.jobs.propertyNames.pattern).toBe("^[A-Za-z_][A-Za-z0-9_-]*$");
    expect(job.type).toBe("object");
    expect(job.additionalProperties).toBe(false);
    expect(job.required).toEqual(["steps"]);
  });

  it("closes step objects and requires run", () => {
    const step = job.properties.steps.items as Schema;
    expect(step.additionalProperties).toBe(false);
    expect(step.required).toEqual(["run"]);
    expect(job.properties.steps.minItems).toBe(1);
  });

  it("describes fields for editors", () => {
    expect(job.properties.needs.description).toBe("Jobs that must finish first.");
    expect(schema.properties.on.description).toMatch(/^Events that start the pipeline/);
  });

  it("documents matrix axes as lists beside the named settings", () => {
    const matrix = job.properties.matrix as Schema;
    expect(Object.keys(matrix.properties).sort()).toEqual(["exclude", "fail-fast", "include", "max-parallel"]);
    expect(matrix.additionalProperties.type).toBe("array");
    expect(matrix.additionalProperties.minItems).toBe(1);
  });

  it("writes the duration pattern", () => {
    expect(job.properties.timeout.pattern).toBe("^(\\d+(\\.\\d+)?(ms|s|m|h|d))+$");
  });

  it("offers the release target types", () => {
    const target = schema.properties.release.properties.target as Schema;
    const types = (target.oneOf ?? target.anyOf).map((option: Schema) => option.properties.type.const);
    expect(types).toEqual(["fc", "sae", "local"]);
  });

  it("documents input-side defaults as optional", () => {
    const release = schema.properties.release as Schema;
    expect(release.required).toEqual(["target"]);
    expect(release.properties.rollback.default).toBe("auto");
  });
});
