// `gust validate`: checks pipeline files and prints each plan as a tree, changing nothing.
import { resolve } from "node:path";
import { formatDuration, planPipeline, type CanaryStep, type Plan, type PlannedJob } from "../../pipeline";
import { parseCommandArgs } from "../args";
import type { CliContext } from "../context";
import { EVENT_HELP, EVENT_OPTIONS, eventContext } from "../event-options";
import { repositoryState } from "../git-info";
import type { Palette } from "../output/colors";
import { printDiagnostics } from "../output/print-diagnostics";
import { loadPipelines } from "../pipeline-files";

export const VALIDATE_HELP = `Usage: gust validate [file or dir] [options]

Checks pipeline files (default: .gust.yml and .gust/*.yml here) and prints the plan for an event.

Options:
${EVENT_HELP}
`;

const OPTIONS = { ...EVENT_OPTIONS, help: { type: "boolean", short: "h" } } as const;

export async function validateCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, "validate");
  if (values.help) {
    ctx.stdout(VALIDATE_HELP);
    return 0;
  }
  const repository = await loadPipelines(resolve(ctx.cwd, positionals[0] ?? "."));
  if (printDiagnostics(repository.pipelines, ctx.errorColors, ctx.stderr) > 0) return 1;
  const repo = await repositoryState(repository.root);
  const event = eventContext(values, repo, repo.sha);
  let failed = false;
  for (const loaded of repository.pipelines) {
    if (!loaded.result.ok) continue;
    const planned = planPipeline(loaded.result.pipeline, event);
    if (!planned.ok) {
      for (const problem of planned.problems) ctx.stderr(`${ctx.errorColors.red("error")}: ${loaded.file}: ${problem.path}: ${problem.message}\n`);
      failed = true;
      continue;
    }
    ctx.stdout(`${planTree(planned.plan, ctx.colors)}\n`);
  }
  return failed ? 1 : 0;
}

export function planTree(plan: Plan, colors: Palette): string {
  const lines = [`${colors.green("✔")} ${colors.bold(plan.pipeline.file)} — pipeline ${colors.bold(plan.pipeline.name)}`];
  if (!plan.triggered) {
    lines.push(`  ${colors.gray(`not triggered: ${plan.reason}`)}`);
    return lines.join("\n");
  }
  lines.push(colors.dim(`  ${plan.reason}`));
  const byKey = new Map(plan.jobs.map((job) => [job.key, job]));
  const items: Array<(prefix: string, last: boolean) => string[]> = plan.jobs.map((job) => (prefix, last) => jobLines(job, byKey, colors, prefix, last));
  if (plan.release) items.push((prefix, last) => releaseLines(plan, colors, prefix, last));
  items.forEach((render, index) => lines.push(...render("  ", index === items.length - 1)));
  return lines.join("\n");
}

function jobLines(job: PlannedJob, byKey: Map<string, PlannedJob>, colors: Palette, prefix: string, last: boolean): string[] {
  const branch = last ? "└─ " : "├─ ";
  const child = prefix + (last ? "   " : "│  ");
  const needs = job.needs.length ? colors.dim(` ← ${job.needs.map((key) => byKey.get(key)?.name ?? key).join(", ")}`) : "";
  if (job.state === "skipped") return [`${prefix}${branch}${colors.gray(`${job.name} — skipped: ${job.skipReason ?? ""}`)}`];
  const facts = [
    job.image && `image ${job.image}`,
    job.condition.source && `if ${job.condition.source}`,
    job.timeoutMs && `timeout ${formatDuration(job.timeoutMs)}`,
    job.retry.count > 0 && `retry ${job.retry.count}`,
    job.services.length > 0 && `services ${job.services.map((s) => s.name).join(", ")}`,
    job.artifacts && `artifacts ${job.artifacts.paths.join(", ")}`,
    job.cache && "cache",
  ].filter(Boolean);
  const lines = [`${prefix}${branch}${colors.bold(job.name)}${needs}${facts.length ? colors.dim(`  (${facts.join(" · ")})`) : ""}`];
  job.steps.forEach((step, index) => {
    const stepBranch = index === job.steps.length - 1 ? "└─ " : "├─ ";
    const flags = [step.when.onFailure && (step.when.onSuccess ? "always" : "on failure"), !step.when.onSuccess && !step.when.onFailure && "never", step.continueOnError && "continue-on-error", step.timeoutMs && `timeout ${formatDuration(step.timeoutMs)}`].filter(Boolean);
    lines.push(`${child}${stepBranch}${step.name}${flags.length ? colors.dim(`  (${flags.join(", ")})`) : ""}`);
  });
  return lines;
}

function releaseLines(plan: Plan, colors: Palette, prefix: string, last: boolean): string[] {
  const release = plan.release!;
  const branch = last ? "└─ " : "├─ ";
  const target = release.def.target;
  const where = target.type === "fc" ? `fc ${target.region}/${target.function} alias ${target.alias}` : target.type === "sae" ? `sae ${target.region}/${target.appId}` : `local :${target.port}`;
  if (release.state === "skipped") return [`${prefix}${branch}${colors.gray(`release to ${where} — skipped: ${release.skipReason ?? ""}`)}`];
  const steps = release.def.steps.map(describeCanaryStep).join(" → ");
  return [`${prefix}${branch}${colors.magenta("release")} to ${where}: ${steps}${colors.dim(` (rollback ${release.def.rollback})`)}`];
}

function describeCanaryStep(step: CanaryStep): string {
  switch (step.kind) {
    case "weight":
      return `${step.weight}%`;
    case "pause":
      return step.durationMs === undefined ? "pause (until resumed)" : `pause ${formatDuration(step.durationMs)}`;
    case "analysis":
      return step.durationMs === undefined ? "analysis" : `analysis ${formatDuration(step.durationMs)}`;
  }
}
