// Building blocks of the pipeline schema. Fields that hold expressions are checked here, so a bad
// expression is reported with every other problem of the file, at its character.
import { z } from "zod";
import { compileExpression, parseTemplate, stripConditionWrapper, type CheckOptions } from "../expressions";
import { DURATION_PATTERN } from "../duration";

/** Names an expression may start from. Steps cannot read `needs` (it is decided per job). */
export const JOB_ROOTS = ["event", "ref", "branch", "tag", "sha", "inputs", "env", "matrix", "needs"] as const;
export const STEP_ROOTS = JOB_ROOTS.filter((root) => root !== "needs");

/** Extra data a custom issue carries to the diagnostics mapper. */
export interface IssueParams {
  /** Character offset inside the YAML scalar the issue is about. */
  offset?: number;
  length?: number;
  hint?: string;
}

export const duration = z
  .string()
  .regex(new RegExp(DURATION_PATTERN), { message: "expected a duration such as 90s, 5m or 1h30m" })
  .describe("A duration with units: ms, s, m, h, d (e.g. 90s, 5m, 1h30m).");

export const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, { message: "expected a name of letters, digits, '-' and '_'" });

export const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "environment variable names are letters, digits and '_'" });

/** Text that may contain `${{ expression }}` parts. */
export function template(options?: CheckOptions) {
  return z.string().superRefine((value, ctx) => {
    const result = parseTemplate(value, options);
    if (result.ok) return;
    for (const error of result.errors) {
      ctx.addIssue({
        code: "custom",
        message: error.message,
        params: { offset: error.offset, length: error.length, hint: error.hint } satisfies IssueParams,
      });
    }
  });
}

/** An `if:` condition: an expression, bare or wrapped in `${{ }}`, or a boolean. */
export function condition(options?: CheckOptions) {
  return z.union([
    z.boolean(),
    z.string().superRefine((value, ctx) => {
      const stripped = stripConditionWrapper(value);
      if (stripped.source.trim() === "") {
        ctx.addIssue({ code: "custom", message: "empty condition", params: { hint: "write an expression such as branch == 'main'" } });
        return;
      }
      const result = compileExpression(stripped.source, options);
      if (result.ok) return;
      for (const error of result.errors) {
        ctx.addIssue({
          code: "custom",
          message: error.message,
          params: { offset: error.offset + stripped.offset, length: error.length, hint: error.hint } satisfies IssueParams,
        });
      }
    }),
  ]);
}

const envValue = z.union([template(), z.number(), z.boolean()]);

export const envMap = z
  .record(envName, envValue)
  .describe("Environment variables; values may use ${{ }} expressions.");

/** One glob or a list of them. */
export const globs = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const nonEmptyString = z.string().min(1, { message: "must not be empty" });
