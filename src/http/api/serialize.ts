// Records → answer bodies, field by field: a column added to a table (a lease owner, a plan, a
// sealed credential) never reaches a client unless it is added here and to the schema.
import type { z } from "zod";
import type { JobRecord, JobStatus, PipelineRecord, PipelineStatus, RepositoryRecord, StepRecord, TokenInfo } from "./ports";
import type { jobSchema, pipelineSchema, repositorySchema, stepSchema, tokenSchema } from "./schemas";

const iso = (date: Date): string => date.toISOString();
const isoOrNull = (date: Date | null): string | null => (date ? date.toISOString() : null);

export function repositoryJson(repository: RepositoryRecord): z.output<typeof repositorySchema> {
  return {
    id: repository.id,
    forge: repository.forge as z.output<typeof repositorySchema>["forge"],
    fullName: repository.fullName,
    apiUrl: repository.apiUrl,
    createdAt: iso(repository.createdAt),
  };
}

export function pipelineJson(pipeline: PipelineRecord): z.output<typeof pipelineSchema> {
  return {
    id: pipeline.id,
    repositoryId: pipeline.repositoryId,
    number: pipeline.number,
    name: pipeline.name,
    file: pipeline.file,
    event: pipeline.event,
    ref: pipeline.ref,
    branch: pipeline.branch,
    tag: pipeline.tag,
    sha: pipeline.sha,
    status: pipeline.status as PipelineStatus,
    error: pipeline.error,
    fromFork: pipeline.fromFork,
    createdAt: iso(pipeline.createdAt),
    startedAt: isoOrNull(pipeline.startedAt),
    finishedAt: isoOrNull(pipeline.finishedAt),
  };
}

export function jobJson(job: JobRecord): z.output<typeof jobSchema> {
  return {
    id: job.id,
    pipelineId: job.pipelineId,
    key: job.key,
    name: job.name,
    needs: [...job.needs],
    status: job.status as JobStatus,
    attempt: job.attempt,
    exitCode: job.exitCode,
    failedStep: job.failedStep,
    detail: job.detail,
    queuedAt: isoOrNull(job.queuedAt),
    startedAt: isoOrNull(job.startedAt),
    finishedAt: isoOrNull(job.finishedAt),
  };
}

export function stepJson(step: StepRecord): z.output<typeof stepSchema> {
  return {
    index: step.index,
    name: step.name,
    attempt: step.attempt,
    status: step.status,
    exitCode: step.exitCode,
    startedAt: isoOrNull(step.startedAt),
    finishedAt: isoOrNull(step.finishedAt),
  };
}

export function tokenJson(token: TokenInfo): z.output<typeof tokenSchema> {
  return {
    id: token.id,
    name: token.name,
    scopes: [...token.scopes],
    createdAt: iso(token.createdAt),
    lastUsedAt: isoOrNull(token.lastUsedAt),
    expiresAt: isoOrNull(token.expiresAt),
  };
}
