// /api/releases against real stores: releases made by planning a pipeline with a `release:` section,
// running its job and claiming the release as the release worker does, then ticks saved with the
// state each test looks at. The list with filters and pages, one release with its steps, traffic,
// analysis and history, the commands (202 queued, 409 with the controller's reason, 404, scopes) and
// the release of a pipeline.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ReleasesStore } from "../../src/store";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { createRepository, planOf } from "../store/fixtures";
import { createApiHarness, errorOf, json, type ApiHarness } from "./api-harness";
import { pausedHistory, pausedState, progressingState, promotedState, RELEASE_T0, releasePipeline, rolledBackState, saveState, startRelease, type StartedRelease } from "./release-fixtures";

const RELEASE_KEYS = ["id", "repository", "pipeline", "jobId", "target", "targetType", "phase", "version", "weight", "summary", "createdAt", "updatedAt", "finishedAt"];
const DETAIL_KEYS = [...RELEASE_KEYS, "stepIndex", "steps", "live", "previous", "pause", "analysis", "retry", "result", "events", "pendingCommands"];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface ReleaseBody {
  id: number;
  phase: string;
  weight: number;
  summary: string;
  [key: string]: unknown;
}

describe.each(DATABASE_KINDS)("API: releases (%s)", (kind) => {
  const test = useTestDatabase(kind);
  let api: ApiHarness;
  beforeAll(async () => {
    api = await createApiHarness(test.database);
  });
  afterAll(() => api.close());
  beforeEach(async () => {
    for (const repository of await api.repositories.listRepositories()) await api.repositories.deleteRepository(repository.id);
  });

  const start = (options: { repositoryId?: number; jobKey?: string } = {}) => startRelease(test.database, options);
  const get = async (id: number) => (await json(await api.call("GET", `/api/releases/${id}`, { token: api.token.read }))) as ReleaseBody;

  it("lists releases newest first with exactly the documented fields", async () => {
    const first = await start();
    const second = await start({ repositoryId: first.repositoryId });
    await saveState(test.database, second, progressingState(20));
    const response = await api.call("GET", `/api/releases?repository=${first.repositoryId}`, { token: api.token.read });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { releases: ReleaseBody[]; nextCursor: string | null };
    expect(body.releases.map((release) => release.id)).toEqual([second.releaseId, first.releaseId]);
    expect(body.nextCursor).toBeNull();
    const [latest, older] = body.releases;
    expect(Object.keys(latest!).sort()).toEqual([...RELEASE_KEYS].sort());
    const repository = (await api.repositories.getRepository(first.repositoryId))!;
    expect(latest).toMatchObject({
      repository: { id: first.repositoryId, fullName: repository.fullName },
      pipeline: { id: second.pipelineId, number: 2 },
      jobId: second.jobId,
      target: second.target,
      targetType: "local",
      phase: "progressing",
      version: "4",
      weight: 20,
      summary: "progressing: version 3 80%, version 4 20%",
      finishedAt: null,
    });
    expect(latest!.createdAt).toMatch(ISO);
    expect(latest!.updatedAt).toMatch(ISO);
    // Claimed, not ticked yet: the phase stands in for the summary.
    expect(older).toMatchObject({ phase: "publishing", version: null, weight: 0, summary: "publishing" });
  });

  it("filters by repository, target and activity, and pages with the cursor", async () => {
    const a = await start();
    const b = await start({ repositoryId: a.repositoryId });
    const c = await start();
    await saveState(test.database, a, promotedState());
    const ids = async (query: string) => ((await json(await api.call("GET", `/api/releases?${query}`))) as { releases: Array<{ id: number }> }).releases.map((release) => release.id);
    expect(await ids(`repository=${a.repositoryId}`)).toEqual([b.releaseId, a.releaseId]);
    expect(await ids(`repository=${a.repositoryId}&active=true`)).toEqual([b.releaseId]);
    expect(await ids(`repository=${a.repositoryId}&active=false`)).toEqual([b.releaseId, a.releaseId]);
    expect(await ids(`target=${encodeURIComponent(c.target)}`)).toEqual([c.releaseId]);
    expect(await ids("target=local%20%3A1")).toEqual([]);

    const page1 = (await json(await api.call("GET", "/api/releases?limit=2"))) as { releases: Array<{ id: number }>; nextCursor: string };
    expect(page1.releases.map((release) => release.id)).toEqual([c.releaseId, b.releaseId]);
    expect(page1.nextCursor).toBe(String(b.releaseId));
    const page2 = (await json(await api.call("GET", `/api/releases?limit=2&cursor=${page1.nextCursor}`))) as { releases: Array<{ id: number }>; nextCursor: string | null };
    expect(page2).toEqual({ releases: [expect.objectContaining({ id: a.releaseId })], nextCursor: null });
  });

  it("answers 400 invalid_request naming the bad query field", async () => {
    const cases: Array<[string, string, RegExp]> = [
      ["active=yes", "active", /invalid query field 'active': must be true or false/],
      ["limit=0", "limit", /limit/],
      ["limit=101", "limit", /limit/],
      ["repository=abc", "repository", /positive integer/],
      ["cursor=x", "cursor", /nextCursor/],
      ["target=", "target", /target/],
      ["phase=paused", "phase", /unknown field/],
    ];
    for (const [query, field, message] of cases) {
      const response = await api.call("GET", `/api/releases?${query}`, { token: api.token.read });
      expect(response.status, query).toBe(400);
      const error = await errorOf(response);
      expect(error, query).toMatchObject({ code: "invalid_request", field });
      expect(error.message, query).toMatch(message);
    }
  });

  it("shows a release with its steps, traffic, pause, analysis and history, and nothing internal", async () => {
    const release = await start();
    await saveState(test.database, release, pausedState(), { transitions: pausedHistory() });
    await new ReleasesStore(test.database).queueCommand(release.releaseId, "resume", "ops");
    const response = await api.call("GET", `/api/releases/${release.releaseId}`, { token: api.token.read });
    expect(response.status).toBe(200);
    const text = await response.clone().text();
    for (const internal of ["passedInStep", "windowStart", "progressAt", "stepStartedAt", "leaseOwner", "spec", "keepVersions", "node server.mjs"]) expect(text, internal).not.toContain(internal);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([...DETAIL_KEYS].sort());
    expect(body).toMatchObject({
      id: release.releaseId,
      phase: "paused",
      version: "4",
      weight: 20,
      summary: "paused (version 3 80%, version 4 20%): step 4 waits for a person to resume or promote",
      stepIndex: 3,
      live: { stable: "3", canary: { version: "4", weight: 20 }, route: null },
      previous: { stable: "3", canary: null, route: null },
      pause: { reason: "step 4 waits for a person to resume or promote", by: "step" },
      retry: null,
      result: null,
      pendingCommands: [{ id: expect.any(Number), command: "resume", requestedBy: "ops" }],
    });
    expect(body.steps).toEqual([
      { index: 0, kind: "weight", description: "weight 20%", weight: 20, durationMs: null, status: "done" },
      { index: 1, kind: "pause", description: "pause 5m", weight: null, durationMs: 300_000, status: "done" },
      { index: 2, kind: "analysis", description: "analysis 3m", weight: null, durationMs: 180_000, status: "done" },
      { index: 3, kind: "pause", description: "pause until resumed", weight: null, durationMs: null, status: "current" },
      { index: 4, kind: "weight", description: "weight 100%", weight: 100, durationMs: null, status: "pending" },
    ]);
    expect(body.analysis).toEqual({
      last: { at: new Date(RELEASE_T0 + 9 * 60_000).toISOString(), outcome: "pass", metrics: [{ name: "error-rate", value: 0.002, verdict: "pass", reason: "0.2% ≤ 1%" }] },
      failures: 0,
      inconclusive: 1,
    });
    expect(body.events).toEqual([
      { at: new Date(RELEASE_T0 + 60_000).toISOString(), from: "publishing", to: "progressing", weight: 0, reason: "version 4 published; step 1/5: weight 20%" },
      { at: new Date(RELEASE_T0 + 10 * 60_000).toISOString(), from: "progressing", to: "paused", weight: 20, reason: "step 4 waits for a person to resume or promote" },
    ]);
  });

  it("shows a retried call, a measurement without data, and why a finished release ended", async () => {
    const release = await start();
    const nextAt = RELEASE_T0 + 20 * 60_000;
    const retrying = progressingState(20);
    retrying.retry = { attempts: 2, nextAt, error: "set-traffic failed: throttled" };
    retrying.analysis.last = { at: RELEASE_T0, outcome: "inconclusive", metrics: [{ name: "error-rate", verdict: "inconclusive", reason: "no data" }] };
    await saveState(test.database, release, retrying);
    const body = await get(release.releaseId);
    expect(body).toMatchObject({
      retry: { attempts: 2, error: "set-traffic failed: throttled", nextAt: new Date(nextAt).toISOString() },
      analysis: { last: { outcome: "inconclusive", metrics: [{ name: "error-rate", value: null, verdict: "inconclusive", reason: "no data" }] } },
      summary: "progressing: version 3 80%, version 4 20% — retrying: set-traffic failed: throttled",
    });
    expect((body.steps as unknown as Array<{ status: string }>).map((step) => step.status)).toEqual(["done", "current", "pending", "pending", "pending"]);

    await saveState(test.database, release, rolledBackState());
    const ended = await get(release.releaseId);
    expect(ended).toMatchObject({ phase: "rolled-back", weight: 0, result: "analysis failed 1 times (error-rate 7% > 1%)", summary: "rolled-back: analysis failed 1 times (error-rate 7% > 1%)" });
    expect(ended.finishedAt).toMatch(ISO);
    expect((ended.steps as unknown as Array<{ status: string }>).map((step) => step.status)).toEqual(["done", "done", "pending", "pending", "pending"]);
  });

  it("answers 404 for an unknown release and 400 for an id that is not one", async () => {
    const missing = await api.call("GET", "/api/releases/987654", { token: api.token.read });
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toEqual({ code: "not_found", message: "release 987654 not found" });
    const bad = await api.call("GET", "/api/releases/seven", { token: api.token.read });
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toMatchObject({ code: "invalid_request", field: "id" });
  });

  it("queues a command with the token's name and answers 202", async () => {
    const release = await start();
    await saveState(test.database, release, progressingState(20));
    const response = await api.call("POST", `/api/releases/${release.releaseId}/pause`, { token: api.token.write });
    expect(response.status).toBe(202);
    expect(await json(response)).toEqual({ release: release.releaseId, command: "pause", queued: true });
    const promoted = await api.call("POST", `/api/releases/${release.releaseId}/promote`, { token: api.token.write, body: { full: true } });
    expect(promoted.status).toBe(202);
    expect(await json(promoted)).toEqual({ release: release.releaseId, command: "promote-full", queued: true });
    const plain = await api.call("POST", `/api/releases/${release.releaseId}/promote`, { token: api.token.write });
    expect(await json(plain)).toMatchObject({ command: "promote" });
    for (const command of ["abort", "rollback"]) {
      const answer = await api.call("POST", `/api/releases/${release.releaseId}/${command}`, { token: api.token.write });
      expect(answer.status, command).toBe(202);
    }
    const pending = await new ReleasesStore(test.database).pendingCommands(release.releaseId);
    expect(pending.map((command) => [command.command, command.requestedBy])).toEqual([
      ["pause", "writer"],
      ["promote-full", "writer"],
      ["promote", "writer"],
      ["abort", "writer"],
      ["rollback", "writer"],
    ]);
    expect(((await get(release.releaseId)).pendingCommands as unknown as unknown[]).length).toBe(5);
  });

  it("refuses with 409 a command that cannot apply to the stored state, and queues nothing", async () => {
    const release = await start();
    const refused = async (command: string, body?: unknown) => {
      const response = await api.call("POST", `/api/releases/${release.releaseId}/${command}`, { token: api.token.write, ...(body !== undefined ? { body } : {}) });
      expect(response.status, command).toBe(409);
      const error = await errorOf(response);
      expect(error.code).toBe("conflict");
      return error.message;
    };
    expect(await refused("promote")).toBe(`cannot promote release ${release.releaseId}: the version is still being published`);
    await saveState(test.database, release, progressingState(20));
    expect(await refused("resume")).toBe(`cannot resume release ${release.releaseId}: only a paused release can be resumed (it is progressing)`);
    await saveState(test.database, release, pausedState());
    expect(await refused("pause")).toBe(`cannot pause release ${release.releaseId}: only a progressing release can be paused (it is paused)`);
    await saveState(test.database, release, promotedState());
    expect(await refused("promote", { full: true })).toBe(`cannot fully promote release ${release.releaseId}: the release is already promoted`);
    expect(await refused("rollback")).toBe(`cannot roll back release ${release.releaseId}: the release is already promoted`);
    expect(await refused("abort")).toMatch(/already promoted/);
    expect(await new ReleasesStore(test.database).pendingCommands(release.releaseId)).toEqual([]);
  });

  it("checks scopes, the id and the body of a command", async () => {
    const release = await start();
    await saveState(test.database, release, pausedState());
    const path = `/api/releases/${release.releaseId}/resume`;
    expect((await api.call("POST", path, { token: null })).status).toBe(401);
    const weak = await api.call("POST", path, { token: api.token.read });
    expect(weak.status).toBe(403);
    expect((await errorOf(weak)).message).toBe("this token lacks the 'write' scope");
    expect((await api.call("GET", `/api/releases/${release.releaseId}`, { token: null })).status).toBe(401);
    expect((await api.call("GET", "/api/releases", { token: null })).status).toBe(401);

    const missing = await api.call("POST", "/api/releases/987654/resume", { token: api.token.write });
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toEqual({ code: "not_found", message: "release 987654 not found" });
    expect((await api.call("POST", "/api/releases/987654/promote", { token: api.token.write, body: { full: true } })).status).toBe(404);

    const cases: Array<[unknown, string | undefined, RegExp]> = [
      [{ full: "yes" }, "full", /invalid body field 'full': .*boolean/],
      [{ fully: true }, "fully", /unknown field/],
      ["{full: true}", undefined, /not valid JSON/],
    ];
    for (const [body, field, message] of cases) {
      const response = await api.call("POST", `/api/releases/${release.releaseId}/promote`, { token: api.token.write, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      const error = await errorOf(response);
      expect(error).toMatchObject({ code: "invalid_request", ...(field ? { field } : {}) });
      expect(error.message).toMatch(message);
    }
    expect(await new ReleasesStore(test.database).pendingCommands(release.releaseId)).toEqual([]);
  });

  it("finds the release of a pipeline, and says null before it started or when there is none", async () => {
    const repository = await createRepository(test.database);
    const waiting = await api.pipelines.createPipeline({ repositoryId: repository.id, plan: planOf(releasePipeline(19_999)) });
    const none = await api.pipelines.createPipeline({ repositoryId: repository.id, plan: planOf(["jobs:", "  release: {steps: [{run: a}]}"]) });
    for (const id of [waiting.id, none.id]) {
      const answer = await api.call("GET", `/api/pipelines/${id}/release`, { token: api.token.read });
      expect(answer.status).toBe(200);
      expect(await json(answer)).toEqual({ release: null });
    }

    const started: StartedRelease = await start({ repositoryId: repository.id, jobKey: "release" });
    await saveState(test.database, started, progressingState(50));
    const body = (await json(await api.call("GET", `/api/pipelines/${started.pipelineId}/release`, { token: api.token.read }))) as { release: ReleaseBody };
    expect(Object.keys(body.release).sort()).toEqual([...RELEASE_KEYS].sort());
    expect(body.release).toMatchObject({ id: started.releaseId, jobId: started.jobId, phase: "progressing", weight: 50, pipeline: { id: started.pipelineId } });

    const missing = await api.call("GET", "/api/pipelines/987654/release", { token: api.token.read });
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toEqual({ code: "not_found", message: "pipeline 987654 not found" });
  });
});
