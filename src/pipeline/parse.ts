// Pipeline file text → canonical model, or every problem of the file with its line and column.
import { crossFieldProblems } from "./checks";
import { formatPath, sortDiagnostics, type Diagnostic } from "./diagnostics";
import type { Pipeline } from "./model";
import { normalizePipeline } from "./normalize";
import { pipelineSchema } from "./schema/pipeline";
import { issuesToDiagnostics } from "./schema-issues";
import { YamlSource } from "./source-map";

export type ParseResult =
  | { ok: true; pipeline: Pipeline; source: YamlSource }
  | { ok: false; diagnostics: Diagnostic[]; source: YamlSource };

/** Root pipeline file, and the folder holding one pipeline per file. */
export const PIPELINE_FILE = ".gust.yml";
export const PIPELINE_DIR = ".gust";

/** Which of a repository's paths (relative, `/`-separated) are pipeline files, in a stable order. */
export function pipelineFilesIn(paths: Iterable<string>): string[] {
  const found: string[] = [];
  for (const path of paths) {
    if (path === PIPELINE_FILE || path === ".gust.yaml") found.push(path);
    else if (/^\.gust\/[^/]+\.ya?ml$/.test(path)) found.push(path);
  }
  return found.sort((a, b) => (a.startsWith(PIPELINE_DIR + "/") ? 1 : 0) - (b.startsWith(PIPELINE_DIR + "/") ? 1 : 0) || a.localeCompare(b));
}

/** `.gust/deploy.yml` → `deploy`; the root file is named after the repository directory by the caller. */
export function defaultPipelineName(file: string, fallback: string): string {
  const match = /(?:^|\/)\.gust\/([^/]+)\.ya?ml$/.exec(file);
  return match ? match[1]! : fallback;
}

export function parsePipeline(text: string, file: string, fallbackName = defaultPipelineName(file, "pipeline")): ParseResult {
  const source = new YamlSource(text);
  const syntax = source.syntaxErrors();
  if (syntax.length > 0) {
    return { ok: false, source, diagnostics: syntax.map((error) => ({ file, ...error.position, path: "", message: `YAML: ${error.message}`, ...(error.hint ? { hint: error.hint } : {}) })) };
  }
  const data = source.toJS();
  if (data === null || data === undefined) {
    return { ok: false, source, diagnostics: [{ file, line: 1, column: 1, path: "", message: "the pipeline file is empty", hint: "start with jobs:" }] };
  }
  const diagnostics: Diagnostic[] = crossFieldProblems(data).map((problem) => ({
    file,
    ...source.locate(problem.path, { keyOf: problem.keyOf ?? false }),
    path: formatPath(problem.path),
    message: problem.message,
    ...(problem.hint ? { hint: problem.hint } : {}),
  }));
  const parsed = pipelineSchema.safeParse(data);
  if (!parsed.success) diagnostics.push(...issuesToDiagnostics(parsed.error.issues, pipelineSchema, data, source, file));
  if (diagnostics.length > 0 || !parsed.success) return { ok: false, source, diagnostics: sortDiagnostics(diagnostics) };
  return { ok: true, source, pipeline: normalizePipeline(parsed.data, file, fallbackName) };
}
