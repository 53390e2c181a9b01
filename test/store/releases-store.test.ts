// Releases in the database: a pipeline's release is a job the executors never lease; it starts when
// its needs succeed and its target alias is free (a second release on the alias waits, with the
// reason); a replica that stops renewing loses it to another that resumes from the stored state;
// ticks are saved only by the lease holder, with their history and consumed commands; the release's
// end finishes the pipeline.
import { asc, eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../../src/store/database";
import { JobQueue } from "../../src/store/job-queue";
import { PipelinesStore } from "../../src/store/pipelines-store";
import { PipelineRetry } from "../../src/store/pipeline-retry";
import { ReleasesStore, type TickRecord } from "../../src/store/releases-store";
import { forgeUpdates, jobs, pipelines, releaseEvents } from "../../src/store/schema";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { createRepository, planOf, runJobs, statuses } from "./fixtures";

const LEASE_MS = 60_000;
const FILE = (port: number) => [
  "jobs:",
  "  build: {steps: [{run: make}], artifacts: {paths: [dist]}}",
  "release:",
  "  artifact: {from: build, path: dist}",
  `  target: {type: local, command: node app.js, port: ${port}}`,
  "  strategy: {steps: [{weight: 10}, {pause: {}}]}",
];

const initialState = (now: number) => ({ phase: "publishing", startedAt: now });

function tickRecord(overrides: Partial<TickRecord> = {}): TickRecord {
  return { phase: "progressing", version: "2", weight: 10, state: { phase: "progressing" }, transitions: [], consumedCommands: [], summary: "progressing: version 1 90%, version 2 10%", report: true, ...overrides };
}

describe.each(DATABASE_KINDS)("releases store (%s)", (kind) => {
  const test = useTestDatabase(kind);
  const store = () => new ReleasesStore(test.database);
  const queue = () => new JobQueue(test.database);
  beforeEach(() => test.reset());

  async function pipelineWithRelease(database: Database, repositoryId: number, port = 8080): Promise<number> {
    return (await new PipelinesStore(database).createPipeline({ repositoryId, plan: planOf(FILE(port)) })).id;
  }

  const claim = (owner: string, options: { soleReplica?: boolean; now?: Date } = {}) =>
    store().claim({ owner, leaseMs: LEASE_MS, limit: 10, soleReplica: options.soleReplica ?? false, initialState, ...(options.now ? { now: options.now } : {}) });

  it("keeps the release a waiting job no executor leases, and starts it once its needs succeeded", async () => {
    const repository = await createRepository(test.database);
    const pipelineId = await pipelineWithRelease(test.database, repository.id);
    expect(await statuses(test.database, pipelineId)).toEqual({ build: "queued", release: "waiting" });
    expect(await claim("replica-a")).toEqual([]);
    await runJobs(queue(), "dispatcher", { build: "success" });
    expect(await statuses(test.database, pipelineId)).toEqual({ build: "success", release: "queued" });
    // The executor's lease step passes the queued release over.
    expect(await queue().leaseJobs({ owner: "dispatcher", limit: 10, leaseMs: LEASE_MS })).toEqual([]);

    const [claimed, ...rest] = await claim("replica-a");
    expect(rest).toEqual([]);
    expect(claimed).toMatchObject({ target: "local :8080", attempt: 1, artifactJobKey: "build", state: undefined, pipeline: { number: 1 }, spec: { def: { target: { type: "local", port: 8080 } } } });
    expect(await statuses(test.database, pipelineId)).toEqual({ build: "success", release: "running" });
    const detail = await store().get(claimed!.releaseId);
    expect(detail).toMatchObject({ phase: "publishing", target: "local :8080", targetType: "local", jobStatus: "running", events: [], pendingCommands: [] });
  });

  it("lets one release at a time use a target alias: the next waits, told why, and starts when the first ends", async () => {
    const repository = await createRepository(test.database);
    const first = await pipelineWithRelease(test.database, repository.id);
    const second = await pipelineWithRelease(test.database, repository.id);
    const other = await pipelineWithRelease(test.database, repository.id, 9090);
    await runJobs(queue(), "dispatcher", { build: "success" });
    const claimed = await claim("replica-a");
    expect(claimed.map((release) => [release.pipelineId, release.target])).toEqual([
      [first, "local :8080"],
      [other, "local :9090"],
    ]);
    expect(await claim("replica-b")).toEqual([]);
    const [waiting] = await test.database.db.select().from(jobs).where(eq(jobs.pipelineId, second)).orderBy(asc(jobs.id)).then((rows) => rows.filter((row) => row.kind === "release"));
    expect(waiting).toMatchObject({ status: "queued", detail: `waits for release ${claimed[0]!.releaseId} (pipeline #1) to finish on local :8080` });

    expect(await store().saveTick(claimed[0]!.releaseId, claimed[0]!.jobId, "replica-a", tickRecord({ phase: "promoted", weight: 100, summary: "promoted: version 2 serves all traffic" }))).toBe(true);
    expect((await queue().finishJob(claimed[0]!.jobId, "replica-a", { status: "success", detail: "promoted" })).accepted).toBe(true);
    const [next] = await claim("replica-b");
    expect(next).toMatchObject({ pipelineId: second, target: "local :8080" });
    expect(await test.database.db.select({ status: pipelines.status }).from(pipelines).where(eq(pipelines.id, first))).toEqual([{ status: "success" }]);
  });

  it("saves ticks only for the lease holder, with the history, the consumed commands and a forge update", async () => {
    const repository = await createRepository(test.database);
    const pipelineId = await pipelineWithRelease(test.database, repository.id);
    await runJobs(queue(), "dispatcher", { build: "success" });
    const [claimed] = await claim("replica-a");
    const command = await store().queueCommand(claimed!.releaseId, "promote", "alice");
    expect(await store().pendingCommands(claimed!.releaseId)).toEqual([{ id: command.id, command: "promote", requestedBy: "alice" }]);
    const updatesBefore = (await test.database.db.select().from(forgeUpdates).where(eq(forgeUpdates.jobId, claimed!.jobId))).length;

    const record = tickRecord({ transitions: [{ at: Date.parse("2030-01-01T00:00:00Z"), from: "publishing", to: "progressing", weight: 10, reason: "version 2 published" }], consumedCommands: [command.id] });
    expect(await store().saveTick(claimed!.releaseId, claimed!.jobId, "replica-b", record)).toBe(false);
    expect(await store().saveTick(claimed!.releaseId, claimed!.jobId, "replica-a", record)).toBe(true);

    const detail = await store().get(claimed!.releaseId);
    expect(detail).toMatchObject({ phase: "progressing", version: "2", weight: 10, state: { phase: "progressing" }, pendingCommands: [] });
    expect(detail!.events.map((event) => [event.fromPhase, event.toPhase, event.weight, event.reason])).toEqual([["publishing", "progressing", 10, "version 2 published"]]);
    const [job] = await test.database.db.select().from(jobs).where(eq(jobs.id, claimed!.jobId));
    expect(job!.detail).toBe("progressing: version 1 90%, version 2 10%");
    const updates = await test.database.db.select().from(forgeUpdates).where(eq(forgeUpdates.jobId, claimed!.jobId));
    expect(updates.length).toBe(updatesBefore + 1);
    expect(updates.at(-1)).toMatchObject({ state: "running", jobAttempt: 1, pipelineId });
    expect(await store().list({ active: true })).toEqual([expect.objectContaining({ id: claimed!.releaseId, phase: "progressing", pipelineNumber: 1, repository: repository.fullName, jobStatus: "running" })]);
    expect(await store().latestIdForPipeline(pipelineId)).toBe(claimed!.releaseId);
  });

  it("hands a release whose lease ran out to another replica with its stored state", async () => {
    const repository = await createRepository(test.database);
    await pipelineWithRelease(test.database, repository.id);
    await runJobs(queue(), "dispatcher", { build: "success" });
    const start = new Date("2030-01-01T00:00:00Z");
    const [claimed] = await claim("replica-a", { now: start });
    await store().saveTick(claimed!.releaseId, claimed!.jobId, "replica-a", tickRecord({ state: { phase: "paused", stepIndex: 1 } }));
    expect(await claim("replica-b", { now: new Date(start.getTime() + LEASE_MS - 1) })).toEqual([]);
    const [resumed] = await claim("replica-b", { now: new Date(start.getTime() + LEASE_MS + 1) });
    expect(resumed).toMatchObject({ releaseId: claimed!.releaseId, state: { phase: "paused", stepIndex: 1 } });
    // The old holder's saves are refused now.
    expect(await store().saveTick(claimed!.releaseId, claimed!.jobId, "replica-a", tickRecord())).toBe(false);
  });

  it("gives the only replica every running release at once after a restart", async () => {
    const repository = await createRepository(test.database);
    await pipelineWithRelease(test.database, repository.id);
    await runJobs(queue(), "dispatcher", { build: "success" });
    const [claimed] = await claim("before-restart");
    const [resumed] = await claim("after-restart", { soleReplica: true });
    // The stored state comes along: it is resumed, not started again.
    expect(resumed).toMatchObject({ releaseId: claimed!.releaseId, state: { phase: "publishing" } });
  });

  it("starts a new release when a failed pipeline's release is retried", async () => {
    const repository = await createRepository(test.database);
    const pipelineId = await pipelineWithRelease(test.database, repository.id);
    await runJobs(queue(), "dispatcher", { build: "success" });
    const [first] = await claim("replica-a");
    await store().saveTick(first!.releaseId, first!.jobId, "replica-a", tickRecord({ phase: "rolled-back", weight: 0 }));
    await queue().finishJob(first!.jobId, "replica-a", { status: "failure", detail: "rolled back" });
    expect(await test.database.db.select({ status: pipelines.status }).from(pipelines).where(eq(pipelines.id, pipelineId))).toEqual([{ status: "failure" }]);

    expect(await new PipelineRetry(test.database).retry(pipelineId, { failedOnly: true })).toMatchObject({ outcome: "retried" });
    const [second] = await claim("replica-a");
    expect(second).toMatchObject({ jobId: first!.jobId, attempt: 2, state: undefined });
    expect(second!.releaseId).not.toBe(first!.releaseId);
    expect(await store().latestIdForPipeline(pipelineId)).toBe(second!.releaseId);
    expect((await store().get(first!.releaseId))!.phase).toBe("rolled-back");
  });

  it("records the history of a release in order", async () => {
    const repository = await createRepository(test.database);
    await pipelineWithRelease(test.database, repository.id);
    await runJobs(queue(), "dispatcher", { build: "success" });
    const [claimed] = await claim("replica-a");
    const at = Date.parse("2030-01-01T00:00:00Z");
    await store().saveTick(claimed!.releaseId, claimed!.jobId, "replica-a", tickRecord({ transitions: [{ at, from: "publishing", to: "progressing", weight: 0, reason: "published" }] }));
    await store().saveTick(claimed!.releaseId, claimed!.jobId, "replica-a", tickRecord({ phase: "rolled-back", weight: 0, transitions: [{ at: at + 1, from: "progressing", to: "rolling-back", weight: 10, reason: "analysis failed" }, { at: at + 2, from: "rolling-back", to: "rolled-back", weight: 0, reason: "analysis failed" }] }));
    const events = await test.database.db.select().from(releaseEvents).where(eq(releaseEvents.releaseId, claimed!.releaseId)).orderBy(asc(releaseEvents.id));
    expect(events.map((event) => event.toPhase)).toEqual(["progressing", "rolling-back", "rolled-back"]);
    const detail = await store().get(claimed!.releaseId);
    expect(detail!.finishedAt).not.toBeNull();
    expect(await store().list({ active: true })).toEqual([]);
  });
});
