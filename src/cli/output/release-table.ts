// `gust release list`: one row per release, its phase colored like the pipeline statuses are.
import type { Release, ReleasePhase } from "../api-client";
import { formatAge } from "./api-status";
import type { Palette } from "./colors";
import { renderTable } from "./pipeline-table";

export const FINAL_RELEASE_PHASES: readonly ReleasePhase[] = ["promoted", "rolled-back", "aborted", "failed"];

export function phaseLabel(phase: ReleasePhase | string, colors: Palette): string {
  switch (phase) {
    case "publishing":
      return colors.blue("◌ publishing");
    case "progressing":
      return colors.cyan("● progressing");
    case "paused":
      return colors.yellow("‖ paused");
    case "rolling-back":
      return colors.magenta("↺ rolling back");
    case "promoted":
      return colors.green("✔ promoted");
    case "rolled-back":
      return colors.yellow("↩ rolled back");
    case "aborted":
      return colors.yellow("■ aborted");
    case "failed":
      return colors.red("✘ failed");
    default:
      return phase;
  }
}

/** A version as people say it: "v4" for FC's numbered versions, other names as they are. */
export function versionLabel(version: string | null): string {
  if (version === null) return "-";
  return /^[0-9]/.test(version) ? `v${version}` : version;
}

export function percent(weight: number): string {
  return `${Math.round(weight * 10) / 10}%`;
}

export function releasesTable(releases: Release[], colors: Palette, now: number): string {
  const rows = releases.map((release) => [
    String(release.id),
    release.repository.fullName,
    `#${release.pipeline.number}`,
    release.target,
    versionLabel(release.version),
    phaseLabel(release.phase, colors),
    percent(release.weight),
    colors.dim(formatAge(release.createdAt, now)),
  ]);
  return renderTable(
    [{ title: "ID", right: true }, { title: "REPOSITORY" }, { title: "PIPELINE", right: true }, { title: "TARGET" }, { title: "VERSION" }, { title: "PHASE" }, { title: "WEIGHT", right: true }, { title: "AGE" }],
    rows,
    colors,
  );
}
