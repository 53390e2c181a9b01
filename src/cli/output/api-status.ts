// How the API's pipeline and job states read in a terminal: a symbol and a color per status, the
// time a run took and how long ago it started, and padding that ignores color codes.
import { formatDuration } from "../../pipeline";
import type { JobStatus, PipelineStatus } from "../api-client";
import type { Palette } from "./colors";

export function statusLabel(status: PipelineStatus | JobStatus | string, colors: Palette): string {
  switch (status) {
    case "success":
      return colors.green("✔ success");
    case "failure":
      return colors.red("✘ failure");
    case "error":
      return colors.red("! error");
    case "timed_out":
      return colors.red("⏱ timed out");
    case "cancelled":
      return colors.yellow("■ cancelled");
    case "skipped":
      return colors.gray("○ skipped");
    case "running":
      return colors.cyan("● running");
    case "queued":
      return colors.blue("◌ queued");
    case "waiting":
      return colors.gray("… waiting");
    case "pending":
      return colors.gray("◌ pending");
    default:
      return status;
  }
}

export function isFinished(status: PipelineStatus | JobStatus): boolean {
  return !["pending", "running", "waiting", "queued"].includes(status);
}

/** Start to finish, or to `now` while running; "-" before it started. */
export function runDuration(run: { startedAt: string | null; finishedAt: string | null }, now: number): string {
  if (!run.startedAt) return "-";
  const end = run.finishedAt ? Date.parse(run.finishedAt) : now;
  return formatDuration(Math.max(0, end - Date.parse(run.startedAt)));
}

export function formatAge(iso: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

/** Pads to `width` columns on screen: color codes take none. */
export function padVisible(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - visibleLength(text)));
}

export function visibleLength(text: string): number {
  return text.replace(/\u001b\[[0-9;]*m/g, "").length;
}

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

/** A branch or tag by its short name, else the full ref. */
export function refName(pipeline: { ref: string; branch: string | null; tag: string | null }): string {
  return pipeline.branch ?? pipeline.tag ?? pipeline.ref;
}

/** The line that closes a followed job's log: how it ended and why. */
export function jobOutcome(job: { status: JobStatus; detail: string | null; startedAt: string | null; finishedAt: string | null }, colors: Palette, now: number): string {
  const time = job.startedAt ? ` ${colors.dim(runDuration(job, now))}` : "";
  const why = job.detail ? `: ${job.detail}` : "";
  switch (job.status) {
    case "success":
      return `${colors.green("✔ job succeeded")}${time}`;
    case "skipped":
      return colors.gray(`○ job skipped${why}`);
    case "cancelled":
      return `${colors.yellow(`■ job cancelled${why}`)}${time}`;
    case "failure":
    case "timed_out":
    case "error":
      return `${colors.red(`✘ job ${job.status === "failure" ? "failed" : job.status === "error" ? "errored" : "timed out"}${why}`)}${time}`;
    default:
      return statusLabel(job.status, colors);
  }
}
