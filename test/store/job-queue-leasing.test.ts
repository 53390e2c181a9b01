// Leasing: every queued job is leased exactly once whatever the number of dispatchers, within the
// global, per-repository and max-parallel limits; leases are kept by heartbeats, expire, are
// reconciled (requeue, adopt), and a stale owner's result is refused.
import { eq, sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../../src/store/database";
import { JobQueue, type LeasedJob } from "../../src/store/job-queue";
import { PipelinesStore } from "../../src/store/pipelines-store";
import { jobs, pipelines } from "../../src/store/schema";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { createRepository, planOf, planWith, plannedJob, statuses } from "./fixtures";

const LEASE_MS = 60_000;

async function queueJobs(database: Database, repositoryId: number, count: number, prefix = "job"): Promise<number> {
  const plan = planWith(Array.from({ length: count }, (_, i) => plannedJob(`${prefix}-${i}`)));
  return (await new PipelinesStore(database).createPipeline({ repositoryId, plan })).id;
}

async function runningCount(database: Database): Promise<number> {
  const [row] = await database.db.select({ count: sql<number>`count(*)::int` }).from(jobs).where(eq(jobs.status, "running"));
  return row!.count;
}

describe.each(DATABASE_KINDS)("job queue: leasing (%s)", (kind) => {
  const test = useTestDatabase(kind);
  const queue = () => new JobQueue(test.database);
  beforeEach(() => test.reset());

  it("leases queued jobs oldest first with what the executor needs", async () => {
    const repository = await createRepository(test.database);
    const first = await queueJobs(test.database, repository.id, 2, "first");
    const second = await queueJobs(test.database, repository.id, 1, "second");
    const now = new Date("2030-01-01T00:00:00Z");

    const leased = await queue().leaseJobs({ owner: "replica-a", limit: 2, leaseMs: LEASE_MS, now });
    expect(leased.map((job) => job.key)).toEqual(["first-0", "first-1"]);
    const [job] = leased as [LeasedJob];
    expect(job).toMatchObject({
      pipelineId: first,
      repositoryId: repository.id,
      name: "first-0",
      attempt: 1,
      runId: `${job.id}-1`,
      leaseExpiresAt: new Date(now.getTime() + LEASE_MS),
      spec: { key: "first-0", steps: [expect.objectContaining({ script: "true" })] },
      pipeline: { id: first, number: 1, name: "test", ref: "refs/heads/main", branch: "main", sha: "abc123", fromFork: false },
      repository: { id: repository.id, forge: "github", fullName: repository.fullName },
    });
    const [row] = await test.database.db.select().from(jobs).where(eq(jobs.id, job.id));
    expect(row).toMatchObject({ status: "running", leaseOwner: "replica-a", attempt: 1, runId: `${job.id}-1` });
    const [pipeline] = await test.database.db.select().from(pipelines).where(eq(pipelines.id, first));
    expect(pipeline).toMatchObject({ status: "running", startedAt: now });

    expect((await queue().leaseJobs({ owner: "replica-b", limit: 5, leaseMs: LEASE_MS })).map((job) => job.pipelineId)).toEqual([second]);
    expect(await queue().leaseJobs({ owner: "replica-b", limit: 5, leaseMs: LEASE_MS })).toEqual([]);
    expect(await queue().leaseJobs({ owner: "replica-b", limit: 0, leaseMs: LEASE_MS })).toEqual([]);
  });

  it("leases each of 3,000 jobs exactly once to 8 concurrent dispatchers", async () => {
    const repositories = await Promise.all([1, 2, 3].map(() => createRepository(test.database)));
    for (let i = 0; i < 30; i++) await queueJobs(test.database, repositories[i % 3]!.id, 100, `p${i}`);
    // On PostgreSQL each dispatcher has its own pool, as separate replicas would.
    const clients = await Promise.all(Array.from({ length: 8 }, () => test.connect({ maxConnections: 2 })));
    const leasedBy = await Promise.all(
      clients.map(async (client, n) => {
        const mine: LeasedJob[] = [];
        const dispatcher = new JobQueue(client);
        for (;;) {
          const batch = await dispatcher.leaseJobs({ owner: `dispatcher-${n}`, limit: 25, leaseMs: LEASE_MS });
          if (batch.length === 0) return mine;
          mine.push(...batch);
        }
      }),
    );
    const all = leasedBy.flat();
    expect(all).toHaveLength(3000);
    expect(new Set(all.map((job) => job.id)).size).toBe(3000);
    if (kind === "postgres") expect(leasedBy.filter((mine) => mine.length > 0).length).toBeGreaterThan(1);

    const rows = await test.database.db.select({ id: jobs.id, status: jobs.status, owner: jobs.leaseOwner, attempt: jobs.attempt }).from(jobs);
    expect(rows.every((row) => row.status === "running" && row.attempt === 1)).toBe(true);
    const ownerOf = new Map(rows.map((row) => [row.id, row.owner]));
    leasedBy.forEach((mine, n) => {
      for (const job of mine) expect(ownerOf.get(job.id)).toBe(`dispatcher-${n}`);
    });
  });

  it("never runs more jobs than the global limit, even with concurrent dispatchers", async () => {
    const repository = await createRepository(test.database);
    await queueJobs(test.database, repository.id, 40);
    const clients = await Promise.all(Array.from({ length: 8 }, () => test.connect({ maxConnections: 2 })));
    const lease = async (client: Database, n: number) =>
      (await new JobQueue(client).leaseJobs({ owner: `d${n}`, limit: 3, leaseMs: LEASE_MS, globalLimit: 5 })).map((job) => ({ job, owner: `d${n}` }));
    const first = (await Promise.all(clients.map(lease))).flat();
    expect(first).toHaveLength(5);
    expect(await runningCount(test.database)).toBe(5);

    for (const { job, owner } of first.slice(0, 2)) expect((await queue().finishJob(job.id, owner, { status: "success" })).accepted).toBe(true);
    const second = (await Promise.all(clients.map(lease))).flat();
    expect(second).toHaveLength(2);
    expect(await runningCount(test.database)).toBe(5);
  });

  it("keeps each repository within its max_concurrent_jobs without holding back the others", async () => {
    const limited = await createRepository(test.database, { maxConcurrentJobs: 2 });
    const free = await createRepository(test.database);
    await queueJobs(test.database, limited.id, 10, "limited");
    await queueJobs(test.database, free.id, 10, "free");

    const leased = await queue().leaseJobs({ owner: "a", limit: 8, leaseMs: LEASE_MS });
    expect(leased.filter((job) => job.repositoryId === limited.id)).toHaveLength(2);
    expect(leased.filter((job) => job.repositoryId === free.id)).toHaveLength(6);

    const clients = await Promise.all(Array.from({ length: 8 }, () => test.connect({ maxConnections: 2 })));
    const more = (await Promise.all(clients.map((client, n) => new JobQueue(client).leaseJobs({ owner: `d${n}`, limit: 2, leaseMs: LEASE_MS })))).flat();
    expect(more.filter((job) => job.repositoryId === limited.id)).toHaveLength(0);
    expect(more.filter((job) => job.repositoryId === free.id)).toHaveLength(4);

    const done = leased.find((job) => job.repositoryId === limited.id)!;
    await queue().finishJob(done.id, "a", { status: "success" });
    const next = await queue().leaseJobs({ owner: "a", limit: 10, leaseMs: LEASE_MS });
    expect(next.map((job) => job.repositoryId)).toEqual([limited.id]);
  });

  it("runs at most max-parallel combinations of a matrix at once", async () => {
    const repository = await createRepository(test.database);
    const plan = planOf(["jobs:", "  test:", "    matrix: {node: [18, 20, 22, 24], max-parallel: 2}", "    steps: [{run: make test}]"]);
    await new PipelinesStore(test.database).createPipeline({ repositoryId: repository.id, plan });
    const leased = await queue().leaseJobs({ owner: "a", limit: 10, leaseMs: LEASE_MS });
    expect(leased.map((job) => job.key)).toEqual(["test-node-18", "test-node-20"]);
    await queue().finishJob(leased[0]!.id, "a", { status: "success" });
    expect((await queue().leaseJobs({ owner: "a", limit: 10, leaseMs: LEASE_MS })).map((job) => job.key)).toEqual(["test-node-22"]);
  });

  it("extends only the leases the owner still holds, and reports the lost ones", async () => {
    const repository = await createRepository(test.database);
    await queueJobs(test.database, repository.id, 3);
    const t0 = new Date("2030-01-01T00:00:00Z");
    const [a, b, c] = (await queue().leaseJobs({ owner: "me", limit: 3, leaseMs: 10_000, now: t0 })) as [LeasedJob, LeasedJob, LeasedJob];
    await queue().finishJob(c.id, "me", { status: "success" });
    const t1 = new Date(t0.getTime() + 5_000);

    expect(await queue().heartbeat("me", [a.id, b.id, c.id, 999_999], 10_000, t1)).toEqual({ lost: [c.id, 999_999], cancelRequested: [] });
    expect(await queue().heartbeat("someone-else", [a.id], 10_000, t1)).toEqual({ lost: [a.id], cancelRequested: [] });
    expect(await queue().heartbeat("me", [], 10_000, t1)).toEqual({ lost: [], cancelRequested: [] });
    const rows = await test.database.db.select({ id: jobs.id, expires: jobs.leaseExpiresAt }).from(jobs).where(eq(jobs.status, "running"));
    for (const row of rows) expect(row.expires).toEqual(new Date(t1.getTime() + 10_000));

    // Expired by the clock, but nobody took it over: the owner may still renew it.
    expect(await queue().expiredLeases({ now: new Date(t1.getTime() + 10_001) })).toHaveLength(2);
    await queue().heartbeat("me", [a.id], 10_000, new Date(t1.getTime() + 20_000));
    expect((await queue().expiredLeases({ now: new Date(t1.getTime() + 10_001) })).map((job) => job.id)).toEqual([b.id]);
  });

  it("lists expired leases without changing them, and requeues a job whose run is gone", async () => {
    const repository = await createRepository(test.database);
    await queueJobs(test.database, repository.id, 1);
    const t0 = new Date("2030-01-01T00:00:00Z");
    const [job] = (await queue().leaseJobs({ owner: "dead-replica", limit: 1, leaseMs: 1_000, now: t0 })) as [LeasedJob];
    expect(await queue().expiredLeases({ now: new Date(t0.getTime() + 999) })).toEqual([]);
    const expired = await queue().expiredLeases({ now: new Date(t0.getTime() + 1_001) });
    expect(expired).toEqual([{ id: job.id, pipelineId: job.pipelineId, runId: `${job.id}-1`, leaseOwner: "dead-replica", leaseExpiresAt: new Date(t0.getTime() + 1_000), attempt: 1 }]);
    expect(await statuses(test.database, job.pipelineId)).toEqual({ "job-0": "running" });
    // Its own leases are left to the owner's heartbeats; a sole replica takes every foreign one.
    expect(await queue().expiredLeases({ now: new Date(t0.getTime() + 1_001), exceptOwner: "dead-replica" })).toEqual([]);
    expect((await queue().expiredLeases({ now: t0, allForeign: true, exceptOwner: "me" })).map((lease) => lease.id)).toEqual([job.id]);

    expect(await queue().requeue(job.id, { owner: "another" })).toBe("not_running");
    expect(await queue().requeue(job.id, { owner: "dead-replica" })).toBe("requeued");
    expect(await queue().requeue(job.id)).toBe("not_running");
    const [again] = (await queue().leaseJobs({ owner: "live-replica", limit: 1, leaseMs: LEASE_MS })) as [LeasedJob];
    expect(again).toMatchObject({ id: job.id, attempt: 2, runId: `${job.id}-2` });

    // The first owner comes back from a pause: its result is refused and changes nothing.
    expect(await queue().finishJob(job.id, "dead-replica", { status: "failure", exitCode: 1 })).toEqual({ accepted: false, reason: "lease_lost" });
    expect(await queue().heartbeat("dead-replica", [job.id], LEASE_MS)).toMatchObject({ lost: [job.id] });
    expect(await statuses(test.database, job.pipelineId)).toEqual({ "job-0": "running" });
    expect(await queue().finishJob(job.id, "live-replica", { status: "success" })).toMatchObject({ accepted: true, pipelineStatus: "success" });
    expect(await queue().finishJob(job.id, "live-replica", { status: "success" })).toEqual({ accepted: false, reason: "lease_lost" });
    expect(await queue().finishJob(999_999_999, "live-replica", { status: "success" })).toEqual({ accepted: false, reason: "not_found" });
  });

  it("lets a reconciler adopt a run the executor still has", async () => {
    const repository = await createRepository(test.database);
    await queueJobs(test.database, repository.id, 1);
    const [job] = (await queue().leaseJobs({ owner: "old", limit: 1, leaseMs: 1_000 })) as [LeasedJob];
    expect(await queue().adopt(job.id, "someone", "new", LEASE_MS)).toBe(false);
    expect(await queue().adopt(job.id, "old", "new", LEASE_MS)).toBe(true);
    expect(await queue().finishJob(job.id, "old", { status: "success" })).toMatchObject({ accepted: false });
    expect(await queue().finishJob(job.id, "new", { status: "success" })).toMatchObject({ accepted: true });
  });
});
