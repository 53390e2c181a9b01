// The table `gust run` ends with: job, status, duration, and why a job did not succeed.
import type { JobSummary, PipelineResult } from "../../app/pipeline-runner";
import { formatDuration } from "../../pipeline";
import type { Palette } from "./colors";

export function statusText(status: JobSummary["status"], colors: Palette): string {
  switch (status) {
    case "success":
      return colors.green("✔ success");
    case "skipped":
      return colors.gray("○ skipped");
    case "cancelled":
      return colors.yellow("■ cancelled");
    case "timed-out":
      return colors.red("⏱ timed out");
    case "error":
      return colors.red("! error");
    default:
      return colors.red("✘ failed");
  }
}

const STATUS_WIDTH = 12;

export function summaryTable(result: PipelineResult, colors: Palette): string {
  const nameWidth = Math.max(3, ...result.jobs.map((job) => job.name.length));
  const rows = [colors.bold(`${"JOB".padEnd(nameWidth)}  ${"STATUS".padEnd(STATUS_WIDTH)}  ${"DURATION".padStart(8)}  DETAIL`)];
  for (const job of result.jobs) {
    const status = statusText(job.status, colors);
    const duration = job.status === "skipped" ? "-" : formatDuration(job.durationMs);
    const attempts = job.attempts > 1 ? ` (${job.attempts} attempts)` : "";
    rows.push(`${job.name.padEnd(nameWidth)}  ${status}${" ".repeat(Math.max(0, STATUS_WIDTH - visibleLength(status)))}  ${duration.padStart(8)}  ${colors.dim((job.detail ?? "") + attempts)}`);
  }
  const counts = new Map<string, number>();
  for (const job of result.jobs) counts.set(job.status, (counts.get(job.status) ?? 0) + 1);
  const tally = [...counts].map(([status, count]) => `${count} ${status}`).join(", ");
  const verdict =
    result.status === "success" ? colors.green(colors.bold("Pipeline succeeded")) : result.status === "cancelled" ? colors.yellow(colors.bold("Pipeline cancelled")) : colors.red(colors.bold("Pipeline failed"));
  rows.push("", `${verdict} in ${formatDuration(result.durationMs)} — ${tally}`);
  return rows.join("\n");
}

/** Width on screen: color codes take none. */
function visibleLength(text: string): number {
  return text.replace(/\u001b\[[0-9;]*m/g, "").length;
}
