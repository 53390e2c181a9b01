// The forge-updates outbox as a queue for senders on any number of replicas. Triggers write the rows
// (migrations/0001_forge_outbox.sql) and NOTIFY FORGE_UPDATES_CHANNEL; this store hands them out.
//
// Order: the updates of one job (or of one pipeline run) are a queue of their own, in id order (the
// transactions writing them hold the job's or pipeline's row lock, so ids follow commit order).
// Only the head of a queue is ever claimed, and a claim holds the head until it is sent, retried
// later or given up: one update of a job at a time, never out of order. A claim expires, so the
// head a dead replica held is taken again. Coalescing: claiming a head also takes the pending
// updates of the same job attempt right after it and sends only the newest, marking the others
// superseded (a queue that fell behind catches up with one call, not one per state).
import { eq, sql } from "drizzle-orm";
import type { Database, Db } from "./database";
import { at } from "./job-progress";
import { forgeUpdates, jobs, pipelines, repositories, steps } from "./schema";
import { inTransaction, rowsOf, run } from "./transaction";

/** Payload: the pipeline id. The triggers send it (by this name) whenever they add an update. */
export const FORGE_UPDATES_CHANNEL = "gust_forge_updates";

export interface ClaimOptions {
  /** The replica claiming. */
  owner: string;
  limit: number;
  /** How long the claim holds; longer than any send takes (forge calls time out well before). */
  claimMs: number;
  /** Repositories to leave alone now (a forge that failed and is being waited for). */
  skipRepositoryIds?: readonly number[];
  /** At most this many updates of one repository in flight, counting `inFlight`. */
  maxPerRepository?: number;
  /** Updates of each repository the caller is sending now. */
  inFlight?: ReadonlyMap<number, number>;
  now?: Date;
}

export interface ClaimedUpdate {
  id: number;
  pipelineId: number;
  /** Null for the pipeline run itself. */
  jobId: number | null;
  repositoryId: number;
  /** Which check run of the job or pipeline shows it (1-based). */
  attempt: number;
  /** jobs.attempt at the change: whose steps and log lines it shows. */
  jobAttempt: number;
  /** The job's or pipeline's status at the change, or `requeued`. */
  state: string;
  /** Failed sends so far, of this update and of those it superseded. */
  attempts: number;
  failingSince: Date | null;
  createdAt: Date;
  /** Older pending updates of the same job attempt this one replaced. */
  superseded: number;
}

/** What a status update is built from: the current rows of its pipeline, job and steps. */
export interface UpdateSubject {
  repository: { id: number; forge: string; fullName: string; apiUrl: string | null; settings: unknown };
  pipeline: {
    id: number;
    number: number;
    name: string;
    file: string;
    event: string;
    ref: string;
    branch: string | null;
    tag: string | null;
    sha: string;
    status: string;
    error: string | null;
    createdAt: Date;
    startedAt: Date | null;
    finishedAt: Date | null;
    reportId: string | null;
    reportAttempt: number | null;
  };
  job?: {
    id: number;
    key: string;
    name: string;
    needs: string[];
    status: string;
    attempt: number;
    exitCode: number | null;
    failedStep: number | null;
    detail: string | null;
    startedAt: Date | null;
    finishedAt: Date | null;
    reportId: string | null;
    reportAttempt: number | null;
  };
  /** For a job: the steps of the update's job attempt, in order. */
  steps: Array<{ index: number; name: string; status: string; exitCode: number | null; reason: string | null; startedAt: Date | null; finishedAt: Date | null }>;
  /** For a pipeline: its jobs in plan order. */
  jobs: Array<{ id: number; key: string; name: string; status: string; detail: string | null; startedAt: Date | null; finishedAt: Date | null }>;
}

type Id = number | string;
type Time = Date | string | null;

interface HeadRow {
  id: Id;
  pipeline_id: Id;
  job_id: Id | null;
  repository_id: Id;
}

interface QueueRow {
  id: Id;
  attempt: number;
  job_attempt: number;
  state: string;
  attempts: number;
  failing_since: Time;
  created_at: Time;
}

export class ForgeUpdatesStore {
  private readonly db: Db;

  constructor(database: Pick<Database, "db">) {
    this.db = database.db;
  }

  /** Claims up to `limit` due heads for `owner`, oldest due first, coalescing each (see above). */
  async claim(options: ClaimOptions): Promise<ClaimedUpdate[]> {
    if (options.limit <= 0) return [];
    const now = at(options.now);
    const expires = sql`${now} + ${options.claimMs}::float8 * interval '1 millisecond'`;
    return inTransaction(this.db, async (tx) => {
      const heads = pickByRepository(await dueHeads(tx, now, options.skipRepositoryIds ?? [], options.limit * 4 + 16), options);
      const claimed: ClaimedUpdate[] = [];
      for (const head of heads) {
        // Another replica claiming the same head holds its lock or has just moved its claim on.
        const [locked] = await rowsOf<{ id: Id }>(
          tx,
          sql`select id from ${forgeUpdates}
               where id = ${head.id} and status = 'pending' and (claim_expires_at is null or claim_expires_at <= ${now})
               for update skip locked`,
        );
        if (!locked) continue;
        const queue = await rowsOf<QueueRow>(
          tx,
          sql`select id, attempt, job_attempt, state, attempts, failing_since, created_at from ${forgeUpdates}
               where pipeline_id = ${head.pipeline_id} and job_id is not distinct from ${head.job_id} and status = 'pending' and id >= ${head.id}
               order by id for update`,
        );
        const first = queue[0]!;
        let last = 0;
        while (last + 1 < queue.length && queue[last + 1]!.attempt === first.attempt) last++;
        const newest = queue[last]!;
        const older = queue.slice(0, last).map((row) => sql`${row.id}`);
        if (older.length > 0) {
          await tx.execute(sql`update ${forgeUpdates} set status = 'superseded', claimed_by = null, claim_expires_at = null where id in (${sql.join(older, sql`, `)})`);
        }
        // The newest inherits the head's failures: the backoff and the give-up clock go on.
        await tx.execute(sql`
          update ${forgeUpdates}
             set claimed_by = ${options.owner}, claim_expires_at = ${expires}, attempts = ${first.attempts}, failing_since = ${timestamp(first.failing_since)}
           where id = ${newest.id}`);
        claimed.push({
          id: Number(newest.id),
          pipelineId: Number(head.pipeline_id),
          jobId: head.job_id === null ? null : Number(head.job_id),
          repositoryId: Number(head.repository_id),
          attempt: newest.attempt,
          jobAttempt: newest.job_attempt,
          state: newest.state,
          attempts: first.attempts,
          failingSince: toDate(first.failing_since),
          createdAt: toDate(newest.created_at)!,
          superseded: older.length,
        });
      }
      return claimed;
    });
  }

  /**
   * Marks a claimed update sent, if `owner` still holds it (false otherwise), and keeps the forge's
   * reportId on the job or pipeline so later updates of that check run update it, also after a
   * restart. The reportId is kept even when the claim was lost: the report was made.
   */
  async markSent(update: Pick<ClaimedUpdate, "id" | "pipelineId" | "jobId" | "attempt">, owner: string, reportId?: string): Promise<boolean> {
    return inTransaction(this.db, async (tx) => {
      if (reportId !== undefined) {
        const target = update.jobId === null ? pipelines : jobs;
        const id = update.jobId ?? update.pipelineId;
        // Never back to an earlier check run: an update sent late must not take the current one's place.
        await tx.execute(sql`
          update ${target} set report_id = ${reportId}, report_attempt = ${update.attempt}
           where id = ${id} and (report_attempt is null or report_attempt <= ${update.attempt})`);
      }
      const rows = await rowsOf<{ id: Id }>(
        tx,
        sql`update ${forgeUpdates} set status = 'sent', sent_at = now(), claimed_by = null, claim_expires_at = null, last_error = null
             where id = ${update.id} and status = 'pending' and claimed_by = ${owner}
             returning id`,
      );
      return rows.length > 0;
    });
  }

  /** Releases the claim; the update is due again after `delayMs`. */
  async retryLater(update: Pick<ClaimedUpdate, "id">, owner: string, retry: { delayMs: number; error: string; now?: Date }): Promise<boolean> {
    const now = at(retry.now);
    const rows = await run(() =>
      rowsOf<{ id: Id }>(
        this.db,
        sql`update ${forgeUpdates}
               set attempts = attempts + 1, failing_since = coalesce(failing_since, ${now}), last_error = ${retry.error},
                   next_attempt_at = ${now} + ${Math.max(0, retry.delayMs)}::float8 * interval '1 millisecond',
                   claimed_by = null, claim_expires_at = null
             where id = ${update.id} and status = 'pending' and claimed_by = ${owner}
             returning id`,
      ),
    );
    return rows.length > 0;
  }

  /** Stops trying: the update is `failed` with the error, and the job's next update may go. */
  async giveUp(update: Pick<ClaimedUpdate, "id">, owner: string, error: string): Promise<boolean> {
    const rows = await run(() =>
      rowsOf<{ id: Id }>(
        this.db,
        sql`update ${forgeUpdates}
               set status = 'failed', attempts = attempts + 1, last_error = ${error}, claimed_by = null, claim_expires_at = null
             where id = ${update.id} and status = 'pending' and claimed_by = ${owner}
             returning id`,
      ),
    );
    return rows.length > 0;
  }

  /**
   * Milliseconds until the next head becomes claimable (0 when one is now; a claimed head counts
   * from its claim's expiry), leaving out `skipRepositoryIds`; undefined when nothing is pending.
   */
  async nextDueInMs(options: { skipRepositoryIds?: readonly number[]; now?: Date } = {}): Promise<number | undefined> {
    const now = at(options.now);
    const [row] = await run(() =>
      rowsOf<{ ms: number | string | null }>(
        this.db,
        sql`select extract(epoch from min(greatest(h.next_attempt_at, coalesce(h.claim_expires_at, h.next_attempt_at))) - ${now}) * 1000 as ms
              from (${heads()}) h join ${pipelines} p on p.id = h.pipeline_id
             where ${notIn(sql`p.repository_id`, options.skipRepositoryIds ?? [])}`,
      ),
    );
    return row?.ms === null || row?.ms === undefined ? undefined : Math.max(0, Math.ceil(Number(row.ms)));
  }

  /** The current rows an update is built from; undefined when its pipeline or job is gone. */
  async subject(update: Pick<ClaimedUpdate, "pipelineId" | "jobId" | "jobAttempt">): Promise<UpdateSubject | undefined> {
    const [row] = await run(() =>
      this.db
        .select({
          repository: { id: repositories.id, forge: repositories.forge, fullName: repositories.fullName, apiUrl: repositories.apiUrl, settings: repositories.settings },
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
            status: pipelines.status,
            error: pipelines.error,
            createdAt: pipelines.createdAt,
            startedAt: pipelines.startedAt,
            finishedAt: pipelines.finishedAt,
            reportId: pipelines.reportId,
            reportAttempt: pipelines.reportAttempt,
          },
        })
        .from(pipelines)
        .innerJoin(repositories, eq(repositories.id, pipelines.repositoryId))
        .where(eq(pipelines.id, update.pipelineId)),
    );
    if (!row) return undefined;
    const { repository, pipeline } = row;
    if (update.jobId === null) {
      const pipelineJobs = await run(() =>
        this.db
          .select({ id: jobs.id, key: jobs.key, name: jobs.name, status: jobs.status, detail: jobs.detail, startedAt: jobs.startedAt, finishedAt: jobs.finishedAt })
          .from(jobs)
          .where(eq(jobs.pipelineId, pipeline.id))
          .orderBy(jobs.id),
      );
      return { repository, pipeline, steps: [], jobs: pipelineJobs };
    }
    const [job] = await run(() =>
      this.db
        .select({
          id: jobs.id,
          key: jobs.key,
          kind: jobs.kind,
          name: jobs.name,
          needs: jobs.needs,
          status: jobs.status,
          attempt: jobs.attempt,
          exitCode: jobs.exitCode,
          failedStep: jobs.failedStep,
          detail: jobs.detail,
          startedAt: jobs.startedAt,
          finishedAt: jobs.finishedAt,
          reportId: jobs.reportId,
          reportAttempt: jobs.reportAttempt,
        })
        .from(jobs)
        .where(eq(jobs.id, update.jobId!)),
    );
    if (!job) return undefined;
    const jobSteps = await run(() =>
      this.db
        .select({ index: steps.index, name: steps.name, status: steps.status, exitCode: steps.exitCode, reason: steps.reason, startedAt: steps.startedAt, finishedAt: steps.finishedAt })
        .from(steps)
        .where(sql`${steps.jobId} = ${job.id} and ${steps.attempt} = ${update.jobAttempt}`)
        .orderBy(steps.index),
    );
    return { repository, pipeline, job, steps: jobSteps, jobs: [] };
  }

  /**
   * Deletes updates done before `olderThanMs` ago, but never the newest of a job or pipeline: the
   * triggers count check runs on from it.
   */
  async prune(olderThanMs: number, now?: Date): Promise<number> {
    const rows = await run(() =>
      rowsOf<{ id: Id }>(
        this.db,
        sql`delete from ${forgeUpdates} f
             where f.status <> 'pending' and f.created_at < ${at(now)} - ${olderThanMs}::float8 * interval '1 millisecond'
               and exists (select 1 from ${forgeUpdates} g where g.pipeline_id = f.pipeline_id and g.job_id is not distinct from f.job_id and g.id > f.id)
             returning f.id`,
      ),
    );
    return rows.length;
  }
}

/** The oldest pending update of each job and pipeline run: the only ones that may be sent. */
function heads() {
  return sql`select distinct on (pipeline_id, job_id) id, pipeline_id, job_id, next_attempt_at, claim_expires_at
               from ${forgeUpdates} where status = 'pending'
              order by pipeline_id, job_id, id`;
}

async function dueHeads(tx: Db, now: ReturnType<typeof at>, skip: readonly number[], scan: number): Promise<HeadRow[]> {
  return rowsOf<HeadRow>(
    tx,
    sql`select h.id, h.pipeline_id, h.job_id, p.repository_id
          from (${heads()}) h join ${pipelines} p on p.id = h.pipeline_id
         where h.next_attempt_at <= ${now} and (h.claim_expires_at is null or h.claim_expires_at <= ${now})
           and ${notIn(sql`p.repository_id`, skip)}
         order by h.next_attempt_at, h.id
         limit ${scan}`,
  );
}

/** Heads in order while their repository has room. */
function pickByRepository(rows: HeadRow[], options: ClaimOptions): HeadRow[] {
  const max = options.maxPerRepository ?? Number.POSITIVE_INFINITY;
  const taken = new Map<number, number>();
  const picked: HeadRow[] = [];
  for (const row of rows) {
    if (picked.length >= options.limit) break;
    const repositoryId = Number(row.repository_id);
    const count = (options.inFlight?.get(repositoryId) ?? 0) + (taken.get(repositoryId) ?? 0);
    if (count >= max) continue;
    taken.set(repositoryId, (taken.get(repositoryId) ?? 0) + 1);
    picked.push(row);
  }
  return picked;
}

function notIn(column: ReturnType<typeof sql>, ids: readonly number[]) {
  return ids.length === 0 ? sql`true` : sql`${column} not in (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`;
}

function timestamp(value: Time) {
  const date = toDate(value);
  return date === null ? sql`null` : sql`${date.toISOString()}::timestamptz`;
}

function toDate(value: Time): Date | null {
  return value === null ? null : value instanceof Date ? value : new Date(value);
}
