// `gust release status`: where a release stands (traffic as a bar, the strategy's steps with the
// current one marked, the last analysis, why it waits or how it ended, its history), and with
// --watch the lines that say what changed between two looks.
import type { ReleaseDetail, TrafficSplit } from "../api-client";
import { formatAge, padVisible, visibleLength } from "./api-status";
import type { Palette } from "./colors";
import { percent, phaseLabel, versionLabel } from "./release-table";

const BAR_WIDTH = 20;

/** `stable v3 ████████████████░░░░ 80% │ canary v4 20%`, the route after it. */
export function trafficBar(split: TrafficSplit | null, colors: Palette): string {
  if (!split) return colors.dim("traffic not read yet");
  if (split.stable === null && !split.canary) return colors.dim("nothing served");
  const canary = split.canary?.weight ?? 0;
  const filled = Math.round(((100 - canary) / 100) * BAR_WIDTH);
  const bar = `${"█".repeat(filled)}${colors.cyan("░".repeat(BAR_WIDTH - filled))}`;
  let text = `stable ${split.stable === null ? "(none)" : versionLabel(split.stable)} ${bar} ${percent(100 - canary)}`;
  if (split.canary) text += ` │ ${colors.cyan(`canary ${versionLabel(split.canary.version)} ${percent(split.canary.weight)}`)}`;
  const route = split.route?.header ? `header ${split.route.header.name}: ${split.route.header.value}` : split.route?.cookie ? `cookie ${split.route.cookie.name}=${split.route.cookie.value}` : undefined;
  if (route) text += colors.dim(` (and every request with ${route})`);
  return text;
}

export function releaseStatus(release: ReleaseDetail, colors: Palette, now: number): string {
  const facts = [release.repository.fullName, `pipeline #${release.pipeline.number}`, release.target, formatAge(release.createdAt, now)];
  const lines = [`${colors.bold(`release ${release.id}`)}  ${phaseLabel(release.phase, colors)}  ${colors.dim(facts.join(" · "))}`];
  const over = release.previous?.stable && release.previous.stable !== release.version ? ` over ${versionLabel(release.previous.stable)}` : "";
  lines.push(release.version === null ? colors.dim("version not published yet") : `version ${versionLabel(release.version)}${over}`);
  lines.push(trafficBar(release.live, colors));

  const notes = situation(release, colors, now);
  if (notes.length > 0) lines.push("", ...notes);

  if (release.steps.length > 0) {
    lines.push("", colors.bold("steps"));
    for (const step of release.steps) {
      const marker = step.status === "done" ? colors.green("✔") : step.status === "current" ? colors.cyan("▶") : " ";
      const text = `${step.index + 1}. ${step.description}`;
      lines.push(`  ${marker} ${step.status === "current" ? colors.bold(text) : step.status === "pending" ? colors.dim(text) : text}`);
    }
  }

  const last = release.analysis.last;
  if (last) {
    const counts = `${release.analysis.failures} failed, ${release.analysis.inconclusive} inconclusive so far`;
    lines.push("", `${colors.bold("analysis")}  ${verdictLabel(last.outcome, colors)} ${colors.dim(`at ${clock(last.at, now)} · ${counts}`)}`);
    const width = Math.max(...last.metrics.map((metric) => metric.name.length));
    for (const metric of last.metrics) lines.push(`  ${metric.name.padEnd(width)}  ${verdictLabel(metric.verdict, colors)}  ${metric.reason}`);
  }

  if (release.events.length > 0) {
    lines.push("", colors.bold("history"));
    const width = Math.max(...release.events.map((event) => visibleLength(transition(event, colors))));
    for (const event of release.events) lines.push(`  ${historyLine(event, colors, now, width)}`);
  }
  if (release.pendingCommands.length > 0) {
    lines.push("", colors.yellow(`asked, not applied yet: ${release.pendingCommands.map((command) => `${command.command} by ${command.requestedBy}`).join(", ")}`));
  }
  return `${lines.join("\n")}\n`;
}

/** Why it waits, what is retried, or how it ended; with the commands that move a paused one. */
function situation(release: ReleaseDetail, colors: Palette, now: number): string[] {
  const lines: string[] = [];
  if (release.phase === "paused" && release.pause) {
    lines.push(`${colors.yellow("paused")}: ${release.pause.reason}`);
    lines.push(colors.dim(`  gust release resume ${release.id} · gust release promote ${release.id} · gust release rollback ${release.id}`));
  }
  if (release.retry) {
    const wait = Math.max(0, Math.round((Date.parse(release.retry.nextAt) - now) / 1000));
    lines.push(`${colors.yellow("retrying")}: ${release.retry.error} ${colors.dim(`(attempt ${release.retry.attempts + 1} in ${wait}s)`)}`);
  }
  if (release.result) lines.push(`${release.phase === "promoted" ? colors.green("result") : colors.red("result")}: ${release.result}`);
  return lines;
}

type ReleaseEvent = ReleaseDetail["events"][number];

/** `width`: the transition column's, so the weights of a history line up. */
export function historyLine(event: ReleaseEvent, colors: Palette, now: number, width = 0): string {
  return `${colors.dim(clock(event.at, now))}  ${padVisible(transition(event, colors), width)}  ${percent(event.weight).padStart(4)}  ${event.reason}`;
}

function transition(event: ReleaseEvent, colors: Palette): string {
  return `${event.from} → ${phaseLabel(event.to, colors)}`;
}

/**
 * What changed between two looks at a release, a line each (for --watch): new history entries,
 * and the traffic when it moved without a phase change (a weight step).
 */
export function releaseChanges(before: ReleaseDetail, after: ReleaseDetail, colors: Palette, now: number): string {
  const lines = after.events.slice(before.events.length).map((event) => historyLine(event, colors, now));
  if (JSON.stringify(before.live) !== JSON.stringify(after.live)) lines.push(`${colors.dim(clock(after.updatedAt, now))}  ${trafficBar(after.live, colors)}`);
  if (after.analysis.last && after.analysis.last.at !== before.analysis.last?.at) {
    const detail = after.analysis.last.metrics.map((metric) => `${metric.name} ${metric.reason}`).join(", ");
    lines.push(`${colors.dim(clock(after.analysis.last.at, now))}  analysis ${verdictLabel(after.analysis.last.outcome, colors)} ${colors.dim(detail)}`);
  }
  return lines.map((line) => `${line}\n`).join("");
}

/** How a release ended, in a line: the last thing --watch prints. */
export function releaseOutcome(release: ReleaseDetail, colors: Palette): string {
  const why = release.result ? `: ${release.result}` : "";
  const label = release.phase === "promoted" ? colors.green(`✔ release ${release.id} promoted${why}`) : `${phaseLabel(release.phase, colors)} ${colors.dim(`release ${release.id}${why}`)}`;
  return `${label}\n`;
}

function verdictLabel(verdict: "pass" | "fail" | "inconclusive", colors: Palette): string {
  return verdict === "pass" ? colors.green("✔ pass") : verdict === "fail" ? colors.red("✘ fail") : colors.yellow("? inconclusive");
}

/** Time of day in local time; the date too when it is not today. */
function clock(iso: string, now: number): string {
  const date = new Date(iso);
  const pad = (value: number) => String(value).padStart(2, "0");
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  const today = new Date(now);
  const sameDay = date.getFullYear() === today.getFullYear() && date.getMonth() === today.getMonth() && date.getDate() === today.getDate();
  return sameDay ? time : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`;
}
