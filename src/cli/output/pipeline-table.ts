// Tables of `gust pipelines` and `gust pipeline ID`: one row per pipeline or job, columns sized to
// their content, statuses colored.
import type { Job, Pipeline } from "../api-client";
import { formatAge, padVisible, refName, runDuration, shortSha, statusLabel, visibleLength } from "./api-status";
import type { Palette } from "./colors";

interface Column {
  title: string;
  right?: boolean;
}

export function renderTable(columns: Column[], rows: string[][], colors: Palette): string {
  const widths = columns.map((column, index) => Math.max(column.title.length, ...rows.map((row) => visibleLength(row[index] ?? ""))));
  const cell = (text: string, index: number) => {
    const width = widths[index] ?? 0;
    if (columns[index]?.right) return " ".repeat(Math.max(0, width - visibleLength(text))) + text;
    // The last column is not padded: no trailing spaces.
    return index === columns.length - 1 ? text : padVisible(text, width);
  };
  const lines = [colors.bold(columns.map((column, index) => cell(column.title, index)).join("  "))];
  for (const row of rows) lines.push(row.map(cell).join("  ").trimEnd());
  return `${lines.join("\n")}\n`;
}

/** `repositories` names the repository column; without it (one repository listed) there is none. */
export function pipelinesTable(pipelines: Pipeline[], colors: Palette, now: number, repositories?: Map<number, string>): string {
  const columns: Column[] = [{ title: "ID", right: true }, { title: "#", right: true }, ...(repositories ? [{ title: "REPOSITORY" }] : []), { title: "PIPELINE" }, { title: "STATUS" }, { title: "REF" }, { title: "SHA" }, { title: "EVENT" }, { title: "DURATION", right: true }, { title: "AGE" }];
  const rows = pipelines.map((pipeline) => [
    String(pipeline.id),
    String(pipeline.number),
    ...(repositories ? [repositories.get(pipeline.repositoryId) ?? `repository ${pipeline.repositoryId}`] : []),
    pipeline.name,
    statusLabel(pipeline.status, colors),
    refName(pipeline),
    colors.dim(shortSha(pipeline.sha)),
    pipeline.event,
    runDuration(pipeline, now),
    colors.dim(formatAge(pipeline.createdAt, now)),
  ]);
  return renderTable(columns, rows, colors);
}

export function pipelineDetail(pipeline: Pipeline & { jobs: Job[] }, colors: Palette, now: number, repository?: string): string {
  const facts = [repository, `${refName(pipeline)} @ ${shortSha(pipeline.sha)}`, pipeline.event, pipeline.file, runDuration(pipeline, now), formatAge(pipeline.createdAt, now)];
  let out = `${colors.bold(`#${pipeline.number} ${pipeline.name}`)}  ${statusLabel(pipeline.status, colors)}  ${colors.dim(facts.filter((fact) => fact && fact !== "-").join(" · "))}${pipeline.fromFork ? colors.yellow("  (from a fork)") : ""}\n`;
  if (pipeline.error) out += `${colors.red(pipeline.error)}\n`;
  if (pipeline.jobs.length === 0) return out;
  out += "\n";
  return out + jobsTable(pipeline.jobs, colors, now);
}

export function jobsTable(jobs: Job[], colors: Palette, now: number): string {
  const rows = jobs.map((job) => {
    const attempt = job.attempt > 1 ? `attempt ${job.attempt}` : "";
    const needs = job.needs.length > 0 && job.status === "waiting" ? `needs ${job.needs.join(", ")}` : "";
    const detail = [job.detail ?? "", attempt, needs].filter(Boolean).join(" · ");
    return [String(job.id), job.name, statusLabel(job.status, colors), runDuration(job, now), detail ? colors.dim(detail) : ""];
  });
  return renderTable([{ title: "JOB ID", right: true }, { title: "JOB" }, { title: "STATUS" }, { title: "DURATION", right: true }, { title: "DETAIL" }], rows, colors);
}
