// Releases in the database: the release worker claims release jobs (a queued one starts a release
// when its target alias is free; a running one whose lease ran out is taken over and resumed from
// its stored state), saves each tick with its transitions and the commands it consumed, and the
// API lists releases and queues people's commands. The controller's state is opaque JSON here.
import { and, asc, desc, eq, inArray, isNull, lt, notInArray, or, sql, type SQL } from "drizzle-orm";
import { releaseTargetName, type PlannedRelease } from "../pipeline";
import { InputError } from "../errors";
import type { Database, Db } from "./database";
import { at } from "./job-progress";
import { jobs, pipelines, releaseCommands, releaseEvents, releases, repositories, type ReleaseEventRow, type ReleaseRow } from "./schema";
import { inTransaction, run } from "./transaction";

/** Serializes claims (PostgreSQL), so two replicas never start two releases on one alias. */
const CLAIM_LOCK = 7_301_946_205;
/** Wakes the replica ticking a release: a command was queued. The payload is the release id. */
export const RELEASE_COMMANDS_CHANNEL = "gust_release_commands";
export const FINAL_RELEASE_PHASES = ["promoted", "rolled-back", "aborted", "failed"];

export interface ClaimedRelease {
  releaseId: number;
  jobId: number;
  /** The release job's attempt (its log lines carry it). */
  attempt: number;
  pipelineId: number;
  repositoryId: number;
  target: string;
  spec: PlannedRelease;
  /** The stored controller state; undefined for a release that starts now. */
  state: unknown;
  /** The planned key of the job the artifact comes from (release.artifact.from), if any. */
  artifactJobKey: string | null;
  pipeline: { number: number; name: string; sha: string; ref: string; branch: string | null; tag: string | null };
  repository: { fullName: string; forge: string };
}

export interface TickRecord {
  phase: string;
  version: string | null;
  weight: number;
  state: unknown;
  transitions: Array<{ at: number; from: string; to: string; weight: number; reason: string }>;
  consumedCommands: number[];
  /** Shown as the release job's detail (API, forge check). */
  summary: string;
  /** Whether the forge should hear of it now (a transition, a new weight). */
  report: boolean;
}

export interface ReleaseCommandRow {
  id: number;
  command: string;
  requestedBy: string;
}

/** `jobDetail`: the release job's detail, the one-line summary of the last tick (or why it waits). */
export type ReleaseSummary = Omit<ReleaseRow, "state"> & { pipelineNumber: number; repository: string; jobStatus: string; jobDetail: string | null };
/** `spec`: the release job's PlannedRelease (its strategy steps, for the API). */
export type ReleaseDetail = ReleaseRow & { pipelineNumber: number; repository: string; jobStatus: string; jobDetail: string | null; spec: unknown; events: ReleaseEventRow[]; pendingCommands: ReleaseCommandRow[] };

export class ReleasesStore {
  private readonly db: Db;
  private readonly kind: Database["kind"];

  constructor(database: Pick<Database, "db" | "kind">) {
    this.db = database.db;
    this.kind = database.kind;
  }

  /**
   * Claims up to `limit` releases for `owner`: running ones whose lease ran out (or, for the only
   * replica, any other owner's) to resume, then queued ones whose target has no active release.
   * A queued one that must wait is told why in its detail.
   */
  async claim(options: { owner: string; leaseMs: number; limit: number; soleReplica: boolean; initialState: (now: number) => unknown; now?: Date }): Promise<ClaimedRelease[]> {
    const { owner, leaseMs } = options;
    const now = at(options.now);
    const leaseEnd = sql`${options.now ? at(options.now) : sql`clock_timestamp()`} + ${leaseMs}::float8 * interval '1 millisecond'`;
    return inTransaction(this.db, async (tx) => {
      if (this.kind === "postgres") await tx.execute(sql`select pg_advisory_xact_lock(${CLAIM_LOCK})`);
      const expired = lt(jobs.leaseExpiresAt, now);
      const stale = options.soleReplica ? or(sql`${jobs.leaseOwner} is distinct from ${owner}`, expired) : expired;
      const orphaned = await tx
        .select({ id: jobs.id })
        .from(jobs)
        .where(and(eq(jobs.kind, "release"), eq(jobs.status, "running"), stale))
        .limit(options.limit)
        .for("update", { skipLocked: true });
      const ids: number[] = [];
      if (orphaned.length > 0) {
        await tx
          .update(jobs)
          .set({ leaseOwner: owner, leaseExpiresAt: leaseEnd })
          .where(inArray(jobs.id, orphaned.map((row) => row.id)));
        ids.push(...orphaned.map((row) => row.id));
      }
      const queued = await tx
        .select({ id: jobs.id, pipelineId: jobs.pipelineId, repositoryId: jobs.repositoryId, spec: jobs.spec, detail: jobs.detail, attempt: jobs.attempt })
        .from(jobs)
        .where(and(eq(jobs.kind, "release"), eq(jobs.status, "queued")))
        .orderBy(asc(jobs.queuedAt), asc(jobs.id))
        .limit(Math.max(0, options.limit - ids.length) * 4 + 4)
        .for("update", { skipLocked: true });
      const taken = new Set<string>();
      for (const job of queued) {
        if (ids.length >= options.limit) break;
        const spec = job.spec as PlannedRelease;
        const target = releaseTargetName(spec.def.target);
        const [active] = await tx
          .select({ id: releases.id, pipelineNumber: pipelines.number })
          .from(releases)
          .innerJoin(pipelines, eq(pipelines.id, releases.pipelineId))
          .where(and(eq(releases.target, target), notInArray(releases.phase, FINAL_RELEASE_PHASES)));
        if (active || taken.has(target)) {
          const detail = active ? `waits for release ${active.id} (pipeline #${active.pipelineNumber}) to finish on ${target}` : `waits for another release on ${target}`;
          if (job.detail !== detail) await tx.update(jobs).set({ detail }).where(eq(jobs.id, job.id));
          continue;
        }
        taken.add(target);
        await tx.insert(releases).values({
          jobId: job.id,
          jobAttempt: job.attempt + 1,
          pipelineId: job.pipelineId,
          repositoryId: job.repositoryId,
          target,
          targetType: spec.def.target.type,
          phase: "publishing",
          state: options.initialState(options.now?.getTime() ?? Date.now()),
        });
        await tx
          .update(jobs)
          .set({
            status: "running",
            detail: null,
            leaseOwner: owner,
            leaseExpiresAt: leaseEnd,
            attempt: sql`${jobs.attempt} + 1`,
            runId: sql`${jobs.id}::text || '-' || (${jobs.attempt} + 1)::text`,
            startedAt: sql`coalesce(${jobs.startedAt}, ${now})`,
          })
          .where(eq(jobs.id, job.id));
        await tx
          .update(pipelines)
          .set({ status: "running", startedAt: sql`coalesce(${pipelines.startedAt}, ${now})` })
          .where(and(eq(pipelines.id, job.pipelineId), eq(pipelines.status, "pending")));
        ids.push(job.id);
      }
      if (ids.length === 0) return [];
      return this.claimed(tx, ids, new Set(orphaned.map((row) => row.id)));
    });
  }

  /** Saves a tick if `owner` still holds the release's lease; false when it lost it (stop ticking). */
  async saveTick(releaseId: number, jobId: number, owner: string, record: TickRecord, now?: Date): Promise<boolean> {
    const time = at(now);
    return inTransaction(this.db, async (tx) => {
      const [job] = await tx
        .select({ pipelineId: jobs.pipelineId, attempt: jobs.attempt })
        .from(jobs)
        .where(and(eq(jobs.id, jobId), eq(jobs.status, "running"), eq(jobs.leaseOwner, owner)))
        .for("update");
      if (!job) return false;
      const final = FINAL_RELEASE_PHASES.includes(record.phase);
      await tx
        .update(releases)
        .set({ phase: record.phase, version: record.version, weight: record.weight, state: record.state, updatedAt: time, ...(final ? { finishedAt: time } : {}) })
        .where(eq(releases.id, releaseId));
      if (record.transitions.length > 0) {
        await tx.insert(releaseEvents).values(
          record.transitions.map((transition) => ({ releaseId, at: new Date(transition.at), fromPhase: transition.from, toPhase: transition.to, weight: transition.weight, reason: transition.reason })),
        );
      }
      if (record.consumedCommands.length > 0) {
        await tx.update(releaseCommands).set({ consumedAt: time }).where(inArray(releaseCommands.id, record.consumedCommands));
      }
      await tx.update(jobs).set({ detail: record.summary }).where(eq(jobs.id, jobId));
      if (record.report && !final) {
        // The job's status did not change, so the outbox trigger did not fire: the forge's check shows the new weight too.
        await tx.execute(sql`
          insert into forge_updates (pipeline_id, job_id, attempt, job_attempt, state)
          values (${job.pipelineId}, ${jobId},
                  coalesce((select attempt from forge_updates where job_id = ${jobId} order by id desc limit 1), 1),
                  ${job.attempt}, 'running')`);
        await tx.execute(sql`select pg_notify('gust_forge_updates', ${String(job.pipelineId)})`);
      }
      return true;
    });
  }

  /** Commands queued for a release and not consumed yet, oldest first. */
  pendingCommands(releaseId: number): Promise<ReleaseCommandRow[]> {
    return run(() =>
      this.db
        .select({ id: releaseCommands.id, command: releaseCommands.command, requestedBy: releaseCommands.requestedBy })
        .from(releaseCommands)
        .where(and(eq(releaseCommands.releaseId, releaseId), isNull(releaseCommands.consumedAt)))
        .orderBy(asc(releaseCommands.id)),
    );
  }

  /** Queues a command for the replica ticking the release and wakes it. */
  async queueCommand(releaseId: number, command: string, requestedBy: string): Promise<ReleaseCommandRow> {
    return inTransaction(this.db, async (tx) => {
      const [row] = await tx.insert(releaseCommands).values({ releaseId, command, requestedBy }).returning({ id: releaseCommands.id, command: releaseCommands.command, requestedBy: releaseCommands.requestedBy });
      await tx.execute(sql`select pg_notify(${RELEASE_COMMANDS_CHANNEL}, ${String(releaseId)})`);
      return row!;
    });
  }

  /** Newest first; `active` keeps the releases not finished. */
  async list(query: { repositoryId?: number; target?: string; active?: boolean; limit?: number; cursor?: number } = {}): Promise<ReleaseSummary[]> {
    const conditions: SQL[] = [];
    if (query.repositoryId !== undefined) conditions.push(eq(releases.repositoryId, query.repositoryId));
    if (query.target !== undefined) conditions.push(eq(releases.target, query.target));
    if (query.active) conditions.push(notInArray(releases.phase, FINAL_RELEASE_PHASES));
    if (query.cursor !== undefined) conditions.push(lt(releases.id, query.cursor));
    const { state: _state, ...columns } = releaseColumns();
    return run(() =>
      this.db
        .select({ ...columns, pipelineNumber: pipelines.number, repository: repositories.fullName, jobStatus: jobs.status, jobDetail: jobs.detail })
        .from(releases)
        .innerJoin(pipelines, eq(pipelines.id, releases.pipelineId))
        .innerJoin(repositories, eq(repositories.id, releases.repositoryId))
        .innerJoin(jobs, eq(jobs.id, releases.jobId))
        .where(and(...conditions))
        .orderBy(desc(releases.id))
        .limit(Math.min(Math.max(query.limit ?? 50, 1), 200)),
    );
  }

  async get(releaseId: number): Promise<ReleaseDetail | undefined> {
    const [row] = await run(() =>
      this.db
        .select({ ...releaseColumns(), pipelineNumber: pipelines.number, repository: repositories.fullName, jobStatus: jobs.status, jobDetail: jobs.detail, spec: jobs.spec })
        .from(releases)
        .innerJoin(pipelines, eq(pipelines.id, releases.pipelineId))
        .innerJoin(repositories, eq(repositories.id, releases.repositoryId))
        .innerJoin(jobs, eq(jobs.id, releases.jobId))
        .where(eq(releases.id, releaseId)),
    );
    if (!row) return undefined;
    const events = await run(() => this.db.select().from(releaseEvents).where(eq(releaseEvents.releaseId, releaseId)).orderBy(asc(releaseEvents.id)));
    return { ...row, events, pendingCommands: await this.pendingCommands(releaseId) };
  }

  /** The latest release of a pipeline (retrying a failed one starts another), if one started. */
  async latestIdForPipeline(pipelineId: number): Promise<number | undefined> {
    const [row] = await run(() => this.db.select({ id: releases.id }).from(releases).where(eq(releases.pipelineId, pipelineId)).orderBy(desc(releases.id)).limit(1));
    return row?.id;
  }

  private async claimed(tx: Db, ids: number[], resumed: Set<number>): Promise<ClaimedRelease[]> {
    const rows = await tx
      .select({
        releaseId: releases.id,
        jobId: jobs.id,
        attempt: jobs.attempt,
        pipelineId: jobs.pipelineId,
        repositoryId: jobs.repositoryId,
        target: releases.target,
        spec: jobs.spec,
        state: releases.state,
        pipeline: { number: pipelines.number, name: pipelines.name, sha: pipelines.sha, ref: pipelines.ref, branch: pipelines.branch, tag: pipelines.tag },
        repository: { fullName: repositories.fullName, forge: repositories.forge },
        artifactJobKey: sql<string | null>`(select a.key from ${jobs} a where a.pipeline_id = ${jobs.pipelineId} and a.kind = 'job'
                                             and a.spec->>'jobId' = ${jobs.spec}->'def'->'artifact'->>'from' order by a.id limit 1)`,
      })
      .from(jobs)
      .innerJoin(releases, and(eq(releases.jobId, jobs.id), eq(releases.jobAttempt, jobs.attempt)))
      .innerJoin(pipelines, eq(pipelines.id, jobs.pipelineId))
      .innerJoin(repositories, eq(repositories.id, jobs.repositoryId))
      .where(inArray(jobs.id, ids))
      .orderBy(asc(jobs.id));
    return rows.map((row) => ({ ...row, spec: row.spec as PlannedRelease, state: resumed.has(row.jobId) ? row.state : undefined }));
  }
}

function releaseColumns() {
  return {
    id: releases.id,
    jobId: releases.jobId,
    jobAttempt: releases.jobAttempt,
    pipelineId: releases.pipelineId,
    repositoryId: releases.repositoryId,
    target: releases.target,
    targetType: releases.targetType,
    phase: releases.phase,
    version: releases.version,
    weight: releases.weight,
    state: releases.state,
    createdAt: releases.createdAt,
    updatedAt: releases.updatedAt,
    finishedAt: releases.finishedAt,
  };
}

/** A release id from the API or CLI. */
export function parseReleaseId(text: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(text)) throw new InputError(`invalid release id '${text}'`, "invalid_release_id");
  return Number(text);
}
