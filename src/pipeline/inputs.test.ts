// Manual inputs: values given by a person checked against their declaration, defaults filled in.
import { describe, expect, it } from "vitest";
import { resolveInputs } from "./inputs";
import type { ManualInput } from "./model";

const declared: Record<string, ManualInput> = {
  target: { type: "choice", required: true, options: ["staging", "production"] },
  replicas: { type: "number", required: false, default: 2 },
  "dry-run": { type: "boolean", required: false },
  note: { type: "string", required: false },
  level: { type: "choice", required: false, options: [1, 2, 3], default: 1 },
};

describe("resolveInputs", () => {
  it("fills defaults and type-appropriate empty values", () => {
    expect(resolveInputs(declared, { target: "staging" }, true)).toEqual({
      inputs: { target: "staging", replicas: 2, "dry-run": false, note: "", level: 1 },
      problems: [],
    });
  });

  it("coerces text from the CLI to the declared types", () => {
    const { inputs, problems } = resolveInputs(declared, { target: "production", replicas: "5", "dry-run": "true", note: 42, level: "3" }, true);
    expect(problems).toEqual([]);
    expect(inputs).toEqual({ target: "production", replicas: 5, "dry-run": true, note: "42", level: 3 });
  });

  it("accepts values of the right type as they are", () => {
    expect(resolveInputs(declared, { target: "staging", replicas: 0, "dry-run": false }, true).inputs).toMatchObject({ replicas: 0, "dry-run": false });
  });

  it("rejects a choice that is not an option", () => {
    expect(resolveInputs(declared, { target: "prod" }, true).problems).toEqual([
      { path: "on.manual.inputs.target", message: "input 'target' expects one of staging, production, got 'prod'" },
    ]);
  });

  it("rejects a number that is not one", () => {
    expect(resolveInputs(declared, { target: "staging", replicas: "many" }, true).problems).toEqual([
      { path: "on.manual.inputs.replicas", message: "input 'replicas' expects a number, got 'many'" },
    ]);
    expect(resolveInputs(declared, { target: "staging", replicas: " " }, true).problems).toHaveLength(1);
    expect(resolveInputs(declared, { target: "staging", replicas: "Infinity" }, true).problems).toHaveLength(1);
  });

  it("rejects a boolean that is not true or false", () => {
    expect(resolveInputs(declared, { target: "staging", "dry-run": "yes" }, true).problems).toEqual([
      { path: "on.manual.inputs.dry-run", message: "input 'dry-run' expects true or false, got 'yes'" },
    ]);
  });

  it("reports an unknown input with a suggestion", () => {
    expect(resolveInputs(declared, { target: "staging", replica: "3" }, true).problems).toEqual([
      { path: "on.manual.inputs", message: "unknown input 'replica' (did you mean 'replicas'?)" },
    ]);
  });

  it("reports a missing required input", () => {
    expect(resolveInputs(declared, {}, true).problems).toEqual([{ path: "on.manual.inputs.target", message: "input 'target' is required" }]);
  });

  it("is lenient for events other than manual: defaults only, no problems", () => {
    const { inputs, problems } = resolveInputs(declared, { bogus: "x" }, false);
    expect(problems).toEqual([]);
    expect(inputs).toEqual({ target: "", replicas: 2, "dry-run": false, note: "", level: 1 });
  });

  it("still reports a value of the wrong type outside manual events", () => {
    expect(resolveInputs(declared, { replicas: "x" }, false).problems).toHaveLength(1);
  });

  it("reports every problem at once", () => {
    const { problems } = resolveInputs(declared, { replicas: "x", "dry-run": "maybe", unknown: 1 }, true);
    expect(problems.map((p) => p.path)).toEqual(["on.manual.inputs.replicas", "on.manual.inputs.dry-run", "on.manual.inputs", "on.manual.inputs.target"]);
  });
});
