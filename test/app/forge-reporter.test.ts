// The forge reporter against the GitHub stand-in, on the real outbox: one check run per job and per
// pipeline run moving queued → in_progress → completed, the failing step and its log tail, the
// check run reused after a restart, retried attempts on check runs of their own, a forge failing
// while other repositories' updates flow, and giving up on credentials that may not report.
import { randomBytes } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ForgeReporter } from "../../src/app/forge-reporter";
import { GithubForge } from "../../src/forges/github";
import { jobs } from "../../src/store/schema";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { GithubApiStandIn, type CheckRun } from "../stand-ins/github-api";
import { plannedJob } from "../store/fixtures";
import { PUBLIC_URL, PipelineDriver, outboxRows, settle, startReporter, until } from "./forge-reporter-fixtures";

const TOKEN = "ghp_reporterTestToken000000000000000000";
const READONLY = "ghp_reporterReadOnly00000000000000000000";

describe.each(DATABASE_KINDS)("forge reporter on GitHub (%s)", (kind) => {
  const test = useTestDatabase(kind);
  let api: GithubApiStandIn;
  let forge: GithubForge;
  const reporters: ForgeReporter[] = [];

  beforeAll(async () => {
    api = await GithubApiStandIn.start();
    api.addToken(TOKEN, { contents: "read", checks: "write", statuses: "write" });
    api.addToken(READONLY, { contents: "read" });
    forge = new GithubForge({ baseUrl: api.baseUrl, credentials: { token: TOKEN } });
  });
  // Each test's jobs alone in the queue (a lease takes every queued job).
  beforeEach(() => test.reset());
  afterEach(async () => {
    for (const reporter of reporters.splice(0)) await reporter.stop(0);
  });
  afterAll(async () => {
    await api.close();
  });

  async function setup() {
    const repo = `acme/app-${randomBytes(4).toString("hex")}`;
    const sha = api.addRepository(repo).commit({ ".gust.yml": "jobs: {}\n" });
    const driver = await PipelineDriver.create(test.database, { forge: "github", fullName: repo, apiUrl: api.baseUrl });
    return { repo, sha, driver };
  }

  async function reporter(forgeFor: () => GithubForge = () => forge, options: Parameters<typeof startReporter>[2] = {}) {
    const started = await startReporter(test.database, forgeFor, options);
    reporters.push(started);
    return started;
  }

  const run = (repo: string, name: string): CheckRun[] => api.checkRuns(repo).filter((item) => item.name === name);
  /** The statuses a check run was created with and patched to, in order. */
  function sentStatuses(repo: string, id: number): string[] {
    const created = api.find("POST", new RegExp(`/repos/${repo}/check-runs$`)).filter((request) => (request.body as { name: string }).name === api.checkRuns(repo).find((item) => item.id === id)?.name);
    const patched = api.find("PATCH", new RegExp(`/repos/${repo}/check-runs/${id}$`));
    return [...created.slice(0, 1), ...patched].map((request) => (request.body as { status: string }).status);
  }
  async function jobId(pipelineId: number, key: string): Promise<number> {
    const [row] = await test.database.db.select({ id: jobs.id }).from(jobs).where(and(eq(jobs.pipelineId, pipelineId), eq(jobs.key, key)));
    return row!.id;
  }

  it("creates one check run per job and per pipeline run, and moves each from queued to its conclusion", async () => {
    const { repo, sha, driver } = await setup();
    await reporter();
    const pipelineId = await driver.createPipeline(sha, [plannedJob("build"), plannedJob("deploy", { needs: ["build"] })]);
    await settle(test.database);
    expect(api.checkRuns(repo).map((item) => [item.name, item.status]).sort(([a], [b]) => a!.localeCompare(b!))).toEqual([
      ["ci", "queued"],
      ["ci / build", "queued"],
      ["ci / deploy", "queued"],
    ]);

    await driver.start("build");
    await settle(test.database);
    expect(run(repo, "ci / build")[0]!.status).toBe("in_progress");
    expect(run(repo, "ci")[0]!.status).toBe("in_progress");
    await driver.finish("build", { status: "success", exitCode: 0 }, [{ name: "compile", status: "success", lines: ["compiled"] }]);
    await settle(test.database);
    await driver.start("deploy");
    await driver.finish("deploy", { status: "success", exitCode: 0 }, [{ name: "ship", status: "success" }]);
    await settle(test.database);

    const build = run(repo, "ci / build");
    expect(build).toHaveLength(1);
    expect(build[0]).toMatchObject({
      head_sha: sha,
      status: "completed",
      conclusion: "success",
      details_url: `${PUBLIC_URL}/jobs/${await jobId(pipelineId, "build")}`,
      external_id: String(await jobId(pipelineId, "build")),
    });
    expect(build[0]!.completed_at).not.toBeNull();
    expect(build[0]!.output.title).toMatch(/^Succeeded in /);
    expect(sentStatuses(repo, build[0]!.id)).toEqual(["queued", "in_progress", "completed"]);

    const pipeline = run(repo, "ci");
    expect(pipeline).toHaveLength(1);
    expect(pipeline[0]).toMatchObject({ status: "completed", conclusion: "success", details_url: `${PUBLIC_URL}/pipelines/${pipelineId}` });
    expect(pipeline[0]!.output.summary).toContain("| Job | Result | Duration |");
    expect(pipeline[0]!.output.summary).toContain(`[deploy](${PUBLIC_URL}/jobs/${await jobId(pipelineId, "deploy")}) | Succeeded |`);
    expect(api.find("POST", new RegExp(`/repos/${repo}/check-runs$`))).toHaveLength(3);
  });

  it("shows the failing step, its exit code and the last lines of its log", async () => {
    const { repo, sha, driver } = await setup();
    await reporter();
    await driver.createPipeline(sha, [plannedJob("test"), plannedJob("publish", { needs: ["test"] })]);
    await driver.start("test");
    const lines = Array.from({ length: 30 }, (_, i) => `\u001b[31mline ${i + 1}\u001b[0m`);
    await driver.finish("test", { status: "failure", exitCode: 1, failedStep: 1, detail: "step 'npm test' exited with 1" }, [
      { name: "install", status: "success", lines: ["installing"] },
      { name: "npm test", status: "failure", exitCode: 1, lines },
    ]);
    await settle(test.database);

    const [failed] = run(repo, "ci / test");
    expect(failed).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(failed!.output.title).toBe("Failed at step `npm test` (exit code 1)");
    expect(failed!.output.text).toContain("line 30");
    expect(failed!.output.text).toContain("line 11\n");
    expect(failed!.output.text).not.toContain("line 10\n");
    expect(failed!.output.text).not.toContain("installing");
    expect(failed!.output.text).not.toContain("\u001b");
    expect(run(repo, "ci / publish")[0]).toMatchObject({ status: "completed", conclusion: "skipped" });
    expect(run(repo, "ci / publish")[0]!.output.summary).toContain("needs 'test' failed");
    const [pipeline] = run(repo, "ci");
    expect(pipeline).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(pipeline!.output.summary).toContain("Failed: step 'npm test' exited with 1");
  });

  it("shows a pipeline file that could not be run as a failed check with the whole error", async () => {
    const { repo, sha, driver } = await setup();
    await reporter();
    const error = ".gust.yml:2:3: error: unknown key 'jbos'\n  2 | jbos:\n    |   ^\n  hint: did you mean 'jobs'?";
    await driver.createBroken(sha, error);
    await settle(test.database);
    const [check] = run(repo, "ci");
    expect(check).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(check!.output.summary).toContain(error);
    expect(check!.output.summary).toContain("`.gust.yml`");
  });

  it("updates the same check run after a restart instead of creating a second one", async () => {
    const { repo, sha, driver } = await setup();
    const first = await reporter();
    const pipelineId = await driver.createPipeline(sha, [plannedJob("build")]);
    await driver.start("build");
    await settle(test.database);
    await first.stop(0);
    const [before] = run(repo, "ci / build");
    expect(before).toMatchObject({ status: "in_progress" });

    // A new process: a new forge (nothing remembered in memory) and a new reporter.
    const restarted = new GithubForge({ baseUrl: api.baseUrl, credentials: { token: TOKEN } });
    await reporter(() => restarted);
    await driver.finish("build", { status: "success", exitCode: 0 });
    await settle(test.database);
    expect(run(repo, "ci / build")).toEqual([expect.objectContaining({ id: before!.id, status: "completed", conclusion: "success" })]);
    expect(run(repo, "ci")).toEqual([expect.objectContaining({ status: "completed", conclusion: "success" })]);
    const [row] = await test.database.db.select({ reportId: jobs.reportId, reportAttempt: jobs.reportAttempt }).from(jobs).where(eq(jobs.pipelineId, pipelineId));
    expect(row).toEqual({ reportId: String(before!.id), reportAttempt: 1 });
  });

  it("closes a retried attempt's check run and shows the next attempt on a new one", async () => {
    const { repo, sha, driver } = await setup();
    await reporter();
    await driver.createPipeline(sha, [plannedJob("flaky", { retry: { count: 1 } })]);
    await driver.start("flaky");
    await settle(test.database);
    await driver.finish("flaky", { status: "failure", exitCode: 3, failedStep: 0 }, [{ name: "e2e", status: "failure", exitCode: 3, lines: ["connection refused"] }]);
    await driver.start("flaky");
    await driver.finish("flaky", { status: "success", exitCode: 0 }, [{ name: "e2e", status: "success", lines: ["all green"] }]);
    await settle(test.database);

    const attempts = run(repo, "ci / flaky");
    expect(attempts.map((item) => [item.status, item.conclusion])).toEqual([
      ["completed", "failure"],
      ["completed", "success"],
    ]);
    expect(attempts[0]!.output.title).toBe("Failed at step `e2e` (exit code 3)");
    expect(attempts[0]!.output.text).toContain("connection refused");
    expect(attempts[1]!.output.text).toBeNull();
    expect(run(repo, "ci")).toEqual([expect.objectContaining({ conclusion: "success" })]);
  });

  it("retries a forge that answered 500 while other repositories' updates flow", async () => {
    const down = await setup();
    const up = await setup();
    let failing = true;
    api.failNext(100_000, { status: 500, match: (request) => failing && request.rawPath.includes(`/repos/${down.repo}/`) });
    await reporter();
    const downPipeline = await down.driver.createPipeline(down.sha, [plannedJob("build")]);
    const upPipeline = await up.driver.createPipeline(up.sha, [plannedJob("build")]);

    await settle(test.database, upPipeline);
    expect(run(up.repo, "ci / build")).toEqual([expect.objectContaining({ status: "queued" })]);
    // Failing as long as the forge does: pending, with the failure recorded, nothing shown.
    await until(async () => (await outboxRows(test.database, downPipeline)).some((row) => row.status === "pending" && row.attempts > 0));
    const waiting = (await outboxRows(test.database, downPipeline)).filter((row) => row.status === "pending");
    expect(waiting.find((row) => row.attempts > 0)!.lastError).toMatch(/500|Server Error/);
    expect(api.checkRuns(down.repo)).toEqual([]);

    failing = false;
    await settle(test.database, downPipeline);
    expect(run(down.repo, "ci / build")).toEqual([expect.objectContaining({ status: "queued" })]);
    expect(run(down.repo, "ci")).toEqual([expect.objectContaining({ status: "queued" })]);
  });

  it("gives up on credentials that may report neither checks nor statuses, without holding back later updates", async () => {
    const { repo, sha, driver } = await setup();
    const readonly = new GithubForge({ baseUrl: api.baseUrl, credentials: { token: READONLY } });
    const gaveUp: number[] = [];
    await reporter(() => readonly, { retry: { nonRetryableForMs: 0 }, onGiveUp: (update) => gaveUp.push(update.id) });
    const pipelineId = await driver.createPipeline(sha, [plannedJob("build")]);
    await settle(test.database);
    await driver.start("build");
    await driver.finish("build", { status: "success", exitCode: 0 });
    await settle(test.database);
    const rows = await outboxRows(test.database, pipelineId);
    expect(rows.every((row) => row.status === "failed" || row.status === "superseded")).toBe(true);
    expect(rows.filter((row) => row.status === "failed").map((row) => row.state)).toEqual(expect.arrayContaining(["queued", "pending", "success"]));
    expect(rows.find((row) => row.status === "failed")!.lastError).toMatch(/statuses/);
    expect(gaveUp.length).toBe(rows.filter((row) => row.status === "failed").length);
    expect(api.checkRuns(repo)).toEqual([]);
  });
});
