// The words a forge shows for a job or pipeline: check run output (title, summary, log tail) and the
// one line a commit status has room for. Pure, shared by every forge so they all say the same.
import { formatDuration } from "../pipeline";
import type { JobStatusUpdate, PipelineStatusUpdate, ReportState, StepFailure } from "./forge";

/** GitHub's limit for a check run's output.summary and output.text, in characters. */
export const GITHUB_OUTPUT_LIMIT = 65_535;
/** GitHub's limit for a commit status description. */
export const GITHUB_STATUS_DESCRIPTION_LIMIT = 140;
/** GitLab keeps commit status descriptions in a 255-character column. */
export const GITLAB_DESCRIPTION_LIMIT = 255;

// CSI (colours, cursor moves), OSC (titles, hyperlinks; ended by BEL or ST) and lone two-byte escapes.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]|\u009b[0-?]*[ -/]*[@-~]/g;
// Other control characters render as garbage in Markdown; tabs stay.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** A log line as a person saw it in a terminal: no colours, and a `\r` progress bar shows its last state. */
export function plainLine(line: string): string {
  const text = line.replace(ANSI, "");
  const lastReturn = text.lastIndexOf("\r", text.length - 2);
  const visible = lastReturn >= 0 ? text.slice(lastReturn + 1) : text;
  return visible.replace(CONTROL, "");
}

/** Cuts to `max` characters with an ellipsis, never splitting a surrogate pair. */
export function truncateEnd(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 1;
  if (cut > 0 && isHighSurrogate(text.charCodeAt(cut - 1))) cut -= 1;
  return `${text.slice(0, cut)}…`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function stateWord(state: ReportState): string {
  switch (state) {
    case "queued":
      return "Queued";
    case "running":
      return "Running";
    case "success":
      return "Succeeded";
    case "failure":
      return "Failed";
    case "cancelled":
      return "Cancelled";
    case "skipped":
      return "Skipped";
    case "timed_out":
      return "Timed out";
  }
}

/** Step names default to the script's first line: keep them short, and their backticks out of the code span. */
function stepLabel(failure: StepFailure): string {
  return `step \`${truncateEnd(failure.stepName.replace(/`/g, "'"), 120)}\``;
}

function exitText(failure: StepFailure): string {
  if (failure.reason) return failure.reason;
  return failure.exitCode === undefined || failure.exitCode === null ? "" : `exit code ${failure.exitCode}`;
}

/** "Failed at step `npm test` (exit code 1)", "Succeeded in 1m3s", "Running". */
export function jobTitle(update: JobStatusUpdate): string {
  const word = stateWord(update.state);
  if ((update.state === "failure" || update.state === "timed_out") && update.failure) {
    const why = exitText(update.failure);
    return `${word} at ${stepLabel(update.failure)}${why ? ` (${why})` : ""}`;
  }
  if (update.state === "success" && update.durationMs !== undefined) return `${word} in ${formatDuration(update.durationMs)}`;
  return word;
}

export function pipelineTitle(update: PipelineStatusUpdate): string {
  const title = `Pipeline ${stateWord(update.state).toLowerCase()}`;
  return update.state === "success" && update.durationMs !== undefined ? `${title} in ${formatDuration(update.durationMs)}` : title;
}

/** The one line a commit status shows: the description when given, else the title. */
export function statusLine(update: JobStatusUpdate | PipelineStatusUpdate, max: number): string {
  const title = "jobKey" in update ? jobTitle(update) : pipelineTitle(update);
  const text = update.description ?? title;
  // Statuses are plain text: backticks would show literally.
  return truncateEnd(text.replace(/`/g, "'"), max);
}

/** Markdown for a job: what happened, where the full log is. */
export function jobSummary(update: JobStatusUpdate, max = GITHUB_OUTPUT_LIMIT): string {
  const lines = [`**${escapeMarkdown(update.jobName)}** — ${jobTitle(update)}`];
  if (update.description) lines.push("", escapeMarkdown(update.description));
  if (update.failure && update.failure.stepIndex !== undefined) lines.push("", `Step ${update.failure.stepIndex + 1}: ${stepLabel(update.failure).slice("step ".length)}`);
  if (update.detailsUrl) lines.push("", `[Full log](${update.detailsUrl})`);
  return truncateEnd(lines.join("\n"), max);
}

export function pipelineSummary(update: PipelineStatusUpdate, max = GITHUB_OUTPUT_LIMIT): string {
  const lines = [update.summary ?? update.description ?? pipelineTitle(update)];
  if (update.detailsUrl) lines.push("", `[Pipeline](${update.detailsUrl})`);
  return truncateEnd(lines.join("\n"), max);
}

/**
 * The end of the failing step's log as a fenced block, cut from the top to fit `max` characters so
 * the last lines (where the error usually is) survive. The fence is longer than any run of
 * backticks in the log, so log text cannot close it.
 */
export function logTailMarkdown(failure: StepFailure | undefined, max = GITHUB_OUTPUT_LIMIT): string | undefined {
  if (!failure?.logTail || failure.logTail.length === 0) return undefined;
  const lines = failure.logTail.map(plainLine);
  let longestTicks = 0;
  for (const line of lines) for (const run of line.match(/`+/g) ?? []) longestTicks = Math.max(longestTicks, run.length);
  const fence = "`".repeat(Math.max(3, longestTicks + 1));
  const heading = `Last lines of ${stepLabel(failure)}:`;
  const cutNotice = (cut: number) => (cut > 0 ? `… ${cut} earlier line${cut === 1 ? "" : "s"} cut\n` : "");
  const frame = (body: string, cut: number) => `${heading}\n\n${fence}text\n${cutNotice(cut)}${body}\n${fence}`;
  // Room for the lines once the frame (with the longest possible cut notice) is paid for.
  const budget = max - frame("", lines.length).length;
  let kept = 0;
  let size = -1;
  // Whole lines from the end while they fit.
  while (kept < lines.length && size + 1 + lines[lines.length - 1 - kept]!.length <= budget) {
    size += 1 + lines[lines.length - 1 - kept]!.length;
    kept += 1;
  }
  if (kept > 0) return frame(lines.slice(lines.length - kept).join("\n"), lines.length - kept);
  // Not even the last line fits: keep its end.
  const last = lines[lines.length - 1]!;
  return frame(`…${last.slice(last.length - Math.max(0, budget - 1))}`, lines.length - 1);
}

function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]<>])/g, "\\$1");
}
