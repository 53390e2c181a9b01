// Public surface of the pipeline module: parse a file, plan a run, decide at run time.
export { parsePipeline, pipelineFilesIn, defaultPipelineName, PIPELINE_FILE, PIPELINE_DIR, type ParseResult } from "./parse";
export { planPipeline } from "./plan";
export { decideJob, aggregateResults, type JobResult, type Decision } from "./decide";
export { formatDiagnostic, formatPath, type Diagnostic, type DiagnosticStyle } from "./diagnostics";
export { pipelineJsonSchema } from "./schema/pipeline";
export { parseDuration, formatDuration } from "./duration";
export { matchTrigger, globMatch, refMatches } from "./trigger-match";
export type * from "./model";
export type * from "./plan-types";
export { releaseTargetName, releaseJobName, RELEASE_JOB_KEY } from "./release-target";
