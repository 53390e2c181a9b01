// Shared by the tests of this folder: compile (parse + check) then evaluate.

import { compileExpression } from "./check";
import { evaluate } from "./evaluate";
import type { CheckOptions, EvalContext, Value } from "./types";

export const VARIABLES: Record<string, Value> = {
  branch: "main",
  ref: "refs/heads/main",
  tag: null,
  sha: "abc123",
  event: { name: "push", commits: [{ id: "c1" }, { id: "c2" }], "head-commit": { message: "fix: x" } },
  inputs: { "deploy-env": "prod", count: "3", flag: true, empty: "" },
  env: { FOO: "bar", ZERO: "0", NUM: "42" },
  matrix: { node: 20, os: "linux", tags: ["a", "b", "c"], include: null },
  needs: { build: { result: "success", outputs: { version: "1.2.3" } }, "unit-tests": { result: "failure" } },
};

export function run(source: string, context: Partial<EvalContext> = {}, options?: CheckOptions): Value {
  const compiled = compileExpression(source, options);
  if (!compiled.ok) throw new Error(`compile failed: ${JSON.stringify(compiled.errors)}`);
  return evaluate(compiled.expr, { variables: VARIABLES, ...context });
}
