// `on:` — which events start the pipeline.
import { Cron } from "croner";
import { z } from "zod";
import { globs, identifier } from "./primitives";

export const EVENT_NAMES = ["push", "pull_request", "merge_request", "tag", "manual", "schedule"] as const;
export type EventName = (typeof EVENT_NAMES)[number];

/**
 * Globs that select (`!pattern` excludes again). A list of only `!` patterns selects nothing, so the
 * trigger would silently never fire: reported instead.
 */
const includeGlobs = globs.superRefine((value, ctx) => {
  const patterns = Array.isArray(value) ? value : [value];
  if (patterns.every((pattern) => pattern.startsWith("!"))) {
    ctx.addIssue({
      code: "custom",
      message: "every pattern here excludes (!), so nothing matches",
      params: { hint: "add a pattern that includes, such as '**', before the '!' ones, or use the -ignore filter" },
    });
  }
});

const branchFilters = {
  branches: includeGlobs.optional().describe("Branch globs that trigger; `!pattern` excludes."),
  "branches-ignore": globs.optional().describe("Branch globs that never trigger."),
  paths: includeGlobs.optional().describe("Run only when a changed file matches one of these globs."),
  "paths-ignore": globs.optional().describe("Do not run when every changed file matches these globs."),
};

const pushTrigger = z.strictObject({
  ...branchFilters,
  tags: includeGlobs.optional().describe("Tag globs whose push triggers (same as on.tag)."),
  "tags-ignore": globs.optional(),
});

const MERGE_ACTIONS = ["opened", "synchronize", "reopened"] as const;

/** pull_request (GitHub) and merge_request (GitLab): `branches` filter the target branch. */
const reviewTrigger = z.strictObject({
  ...branchFilters,
  types: z.array(z.enum(MERGE_ACTIONS)).min(1).optional().describe("Default: all of opened, synchronize, reopened."),
});

const tagTrigger = z.union([includeGlobs, z.strictObject({ tags: includeGlobs.optional(), "tags-ignore": globs.optional() })]);

const manualInput = z
  .strictObject({
    type: z.enum(["string", "boolean", "number", "choice"]).default("string"),
    description: z.string().optional(),
    required: z.boolean().optional(),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    options: z.array(z.union([z.string(), z.number()])).min(1).optional(),
  })
  .superRefine((input, ctx) => {
    if (input.type === "choice" && input.options === undefined) {
      ctx.addIssue({ code: "custom", path: ["options"], message: "a choice input needs options", params: { hint: "add options: [a, b]" } });
    }
    if (input.type !== "choice" && input.options !== undefined) {
      ctx.addIssue({ code: "custom", path: ["options"], message: "options are only for type: choice" });
    }
    const value = input.default;
    if (value === undefined) return;
    const wrongType =
      (input.type === "boolean" && typeof value !== "boolean") ||
      (input.type === "number" && typeof value !== "number") ||
      (input.type === "string" && typeof value !== "string");
    if (wrongType) ctx.addIssue({ code: "custom", path: ["default"], message: `default must be a ${input.type}` });
    if (input.type === "choice" && input.options && !input.options.some((option) => option === value)) {
      ctx.addIssue({ code: "custom", path: ["default"], message: `default '${String(value)}' is not one of the options` });
    }
  });

const manualTrigger = z.strictObject({
  inputs: z.record(identifier, manualInput).optional(),
});

export function cronProblem(cron: string, timezone: string | undefined): string | undefined {
  try {
    new Cron(cron, { paused: true, timezone }).nextRun();
    return undefined;
  } catch (error) {
    return (error as Error).message.replace(/^Cron\w*: /, "").split(". Original error")[0];
  }
}

const scheduleEntry = z
  .strictObject({
    cron: z.string().describe("Five-field cron (minute hour day month weekday), optional seconds field first."),
    timezone: z.string().optional().describe("IANA time zone, e.g. Europe/Berlin. Default UTC."),
    branch: z.string().optional().describe("Branch to run on. Default: the repository's default branch."),
  })
  .superRefine((entry, ctx) => {
    if (entry.timezone !== undefined) {
      try {
        new Intl.DateTimeFormat("en", { timeZone: entry.timezone });
      } catch {
        ctx.addIssue({ code: "custom", path: ["timezone"], message: `unknown time zone '${entry.timezone}'`, params: { hint: "use an IANA name such as Europe/Berlin or Asia/Shanghai" } });
        return;
      }
    }
    const problem = cronProblem(entry.cron, entry.timezone);
    if (problem) ctx.addIssue({ code: "custom", path: ["cron"], message: `invalid cron expression: ${problem}` });
  });

const triggerMap = z.strictObject({
  push: pushTrigger.nullable().optional(),
  pull_request: reviewTrigger.nullable().optional(),
  merge_request: reviewTrigger.nullable().optional(),
  tag: tagTrigger.nullable().optional(),
  manual: manualTrigger.nullable().optional(),
  schedule: z.array(scheduleEntry).min(1).optional(),
});

/** `on: push` and `on: [push, manual]`; schedule needs its cron, so only the map form has it. */
const shorthandEvent = z.enum(["push", "pull_request", "merge_request", "tag", "manual"]);

export const triggers = z
  .union([shorthandEvent, z.array(shorthandEvent).min(1), triggerMap])
  .describe("Events that start the pipeline. Default: push, pull_request, merge_request and manual.");

export type TriggersInput = z.input<typeof triggers>;
export type TriggerMapInput = z.input<typeof triggerMap>;
