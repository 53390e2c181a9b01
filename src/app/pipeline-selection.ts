// Which parsed pipeline files an event runs, and which manual inputs each gets. A manual trigger
// may name one pipeline (by name or file); a schedule tick runs the file of its cron entry; a
// webhook runs every file. Manual inputs go to the pipelines that declare them: an input that
// no pipeline declares is reported (by each, the planner words it), one declared elsewhere is not
// an error for the others. Pure.
import type { PipelineSelection } from "../forges/forge";
import type { ParseResult, Pipeline, PlanProblem, Scalar } from "../pipeline";

export interface ParsedFile {
  path: string;
  /** The pipeline's name, or the name a broken file would have had. */
  name: string;
  parsed: ParseResult;
}

export type Selected = { ok: true; files: ParsedFile[] } | { ok: false; reason: string };

export function selectFiles(files: ParsedFile[], selection: PipelineSelection | undefined, sha: string): Selected {
  if (!selection) return { ok: true, files };
  if ("pipeline" in selection) {
    const wanted = selection.pipeline;
    const chosen = files.filter((file) => file.path === wanted || file.name === wanted);
    if (chosen.length > 0) return { ok: true, files: chosen };
    const known = files.map((file) => `${file.name} (${file.path})`).join(", ");
    return { ok: false, reason: `no pipeline named '${wanted}' at ${sha.slice(0, 12)}; there are: ${known}` };
  }
  const { file, index } = selection.scheduleEntry;
  const chosen = files.filter((candidate) => candidate.path === file);
  if (chosen.length === 0) return { ok: false, reason: `schedule entry ${file}#${index}: ${file} is no longer there at ${sha.slice(0, 12)}` };
  return { ok: true, files: chosen };
}

/** Why a schedule tick's file no longer has its entry, or undefined when it has. */
export function missingScheduleEntry(pipeline: Pipeline, selection: PipelineSelection | undefined): string | undefined {
  if (!selection || !("scheduleEntry" in selection)) return undefined;
  const { index } = selection.scheduleEntry;
  return pipeline.triggers.schedule[index] ? undefined : `its schedule has no entry #${index} any more`;
}

/** The inputs given to a manual trigger that this pipeline is to check. */
export function manualInputsFor(pipeline: Pipeline, given: Record<string, Scalar>, manualPipelines: Pipeline[]): Record<string, Scalar> {
  const declaredAnywhere = new Set(manualPipelines.flatMap((other) => Object.keys(other.triggers.manual?.inputs ?? {})));
  const own = pipeline.triggers.manual?.inputs ?? {};
  return Object.fromEntries(Object.entries(given).filter(([name]) => name in own || !declaredAnywhere.has(name)));
}

export function isInputProblem(problem: PlanProblem): boolean {
  return problem.path === "on.manual.inputs" || problem.path.startsWith("on.manual.inputs.");
}
