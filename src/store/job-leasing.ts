// The lease step's queries: which queued jobs may start now (queue order, limits), and what the
// executor needs about the ones taken.
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { PlannedJob } from "../pipeline";
import type { Db } from "./database";
import type { LeasedJob } from "./job-queue";
import { jobs, pipelines, repositories } from "./schema";

interface Candidate {
  id: number;
  repositoryId: number;
  pipelineId: number;
  jobId: string;
  cap: number | null;
  repositoryRunning: number;
  maxParallel: number | null;
  groupRunning: number;
}

/** Queued jobs in queue order whose repository and matrix group have a free slot, locked. */
export async function candidates(tx: Db, scan: number): Promise<Candidate[]> {
  // Counted only where a limit applies (CASE, unlike OR, guarantees the order of evaluation).
  const repositoryRunning = sql<number>`(case when ${repositories.maxConcurrentJobs} is null then 0 else
      (select count(*)::int from ${jobs} r where r.repository_id = ${jobs.repositoryId} and r.status = 'running' and r.kind = 'job') end)`;
  const maxParallel = sql<number | null>`(${jobs.spec}->'matrixGroup'->>'maxParallel')::int`;
  const groupRunning = sql<number>`(case when ${jobs.spec}->'matrixGroup'->>'maxParallel' is null then 0 else
      (select count(*)::int from ${jobs} s where s.pipeline_id = ${jobs.pipelineId} and s.status = 'running' and s.spec->>'jobId' = ${jobs.spec}->>'jobId') end)`;
  return tx
    .select({
      id: jobs.id,
      repositoryId: jobs.repositoryId,
      pipelineId: jobs.pipelineId,
      jobId: sql<string>`${jobs.spec}->>'jobId'`,
      cap: repositories.maxConcurrentJobs,
      repositoryRunning,
      maxParallel,
      groupRunning,
    })
    .from(jobs)
    .innerJoin(repositories, eq(repositories.id, jobs.repositoryId))
    .where(
      and(
        eq(jobs.status, "queued"),
        // Releases are ticked by the release worker, never run on an executor.
        eq(jobs.kind, "job"),
        sql`(${repositories.maxConcurrentJobs} is null or ${repositoryRunning} < ${repositories.maxConcurrentJobs})`,
        sql`(${maxParallel} is null or ${groupRunning} < ${maxParallel})`,
      ),
    )
    .orderBy(asc(jobs.queuedAt), asc(jobs.id))
    .limit(scan)
    .for("update", { of: jobs, skipLocked: true });
}

/** Takes candidates in order while their repository and matrix group still have room. */
export function pick(rows: Candidate[], room: number): number[] {
  const repositoryTaken = new Map<number, number>();
  const groupTaken = new Map<string, number>();
  const ids: number[] = [];
  for (const row of rows) {
    if (ids.length >= room) break;
    const repositoryCount = repositoryTaken.get(row.repositoryId) ?? 0;
    if (row.cap !== null && row.repositoryRunning + repositoryCount >= row.cap) continue;
    const group = `${row.pipelineId}/${row.jobId}`;
    const groupCount = groupTaken.get(group) ?? 0;
    if (row.maxParallel !== null && row.groupRunning + groupCount >= row.maxParallel) continue;
    repositoryTaken.set(row.repositoryId, repositoryCount + 1);
    groupTaken.set(group, groupCount + 1);
    ids.push(row.id);
  }
  return ids;
}

export async function leasedJobs(tx: Db, ids: number[]): Promise<LeasedJob[]> {
  // Named columns: pipelines.plan holds every job's spec again, far too much to fetch per job.
  const rows = await tx
    .select({
      job: { id: jobs.id, pipelineId: jobs.pipelineId, repositoryId: jobs.repositoryId, key: jobs.key, name: jobs.name, attempt: jobs.attempt, runId: jobs.runId, leaseExpiresAt: jobs.leaseExpiresAt, spec: jobs.spec },
      pipeline: {
        id: pipelines.id,
        number: pipelines.number,
        name: pipelines.name,
        file: pipelines.file,
        event: pipelines.event,
        ref: pipelines.ref,
        branch: pipelines.branch,
        tag: pipelines.tag,
        sha: pipelines.sha,
        fromFork: pipelines.fromFork,
      },
      repository: { id: repositories.id, forge: repositories.forge, fullName: repositories.fullName, apiUrl: repositories.apiUrl, settings: repositories.settings },
    })
    .from(jobs)
    .innerJoin(pipelines, eq(pipelines.id, jobs.pipelineId))
    .innerJoin(repositories, eq(repositories.id, jobs.repositoryId))
    .where(inArray(jobs.id, ids))
    .orderBy(asc(jobs.queuedAt), asc(jobs.id));
  return rows.map(({ job, pipeline, repository }) => ({
    ...job,
    runId: job.runId!,
    leaseExpiresAt: job.leaseExpiresAt!,
    spec: job.spec as PlannedJob,
    pipeline,
    repository,
  }));
}
