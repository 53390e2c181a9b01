// The forge reporter against the GitLab stand-in, on the real outbox: one commit status per job and
// per pipeline run (gust/<pipeline>/<job>), moved pending → running → success, and failed,
// canceled and skipped as the jobs end, each linking to Gust's page for it.
import { randomBytes } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ForgeReporter } from "../../src/app/forge-reporter";
import { GitlabForge } from "../../src/forges/gitlab";
import { jobs } from "../../src/store/schema";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { GitlabApiStandIn, type GitlabCommitStatus } from "../stand-ins/gitlab-api";
import { plannedJob } from "../store/fixtures";
import { PUBLIC_URL, PipelineDriver, settle, startReporter } from "./forge-reporter-fixtures";

const TOKEN = "glpat-reporterTest0000";

describe.each(DATABASE_KINDS)("forge reporter on GitLab (%s)", (kind) => {
  const test = useTestDatabase(kind);
  let api: GitlabApiStandIn;
  let forge: GitlabForge;
  let reporter: ForgeReporter | undefined;

  beforeAll(async () => {
    api = await GitlabApiStandIn.start();
    api.addToken(TOKEN, ["api"]);
    forge = new GitlabForge({ host: api.host, token: TOKEN });
  });
  beforeEach(async () => {
    await test.reset();
    reporter = await startReporter(test.database, () => forge);
  });
  afterEach(async () => {
    await reporter?.stop(0);
  });
  afterAll(async () => {
    await api.close();
  });

  async function setup() {
    const project = `acme/platform/app-${randomBytes(4).toString("hex")}`;
    const sha = api.addProject(project).commit({ ".gust.yml": "jobs: {}\n" });
    const driver = await PipelineDriver.create(test.database, { forge: "gitlab", fullName: project, apiUrl: api.host });
    return { project, sha, driver };
  }

  /** The latest status of each name, as GitLab shows them. */
  function shown(project: string): Record<string, GitlabCommitStatus> {
    return Object.fromEntries(api.statuses(project).map((status) => [status.name, status]));
  }
  /** The states posted for one status name, in order. */
  function posted(project: string, name: string): string[] {
    return api
      .find("POST", new RegExp(`/projects/${encodeURIComponent(project)}/statuses/`))
      .filter((request) => (request.body as { name?: string }).name === name)
      .map((request) => (request.body as { state: string }).state);
  }
  async function jobId(pipelineId: number, key: string): Promise<number> {
    const [row] = await test.database.db.select({ id: jobs.id }).from(jobs).where(and(eq(jobs.pipelineId, pipelineId), eq(jobs.key, key)));
    return row!.id;
  }

  it("moves each job's status from pending through running to its result, linking to the job", async () => {
    const { project, sha, driver } = await setup();
    const pipelineId = await driver.createPipeline(sha, [plannedJob("ok"), plannedJob("bad"), plannedJob("after-bad", { needs: ["bad"] })]);
    await settle(test.database);
    await driver.start("ok");
    await settle(test.database);
    await driver.finish("ok", { status: "success", exitCode: 0 }, [{ name: "build", status: "success" }]);
    await settle(test.database);
    await driver.start("bad");
    await settle(test.database);
    await driver.finish("bad", { status: "failure", exitCode: 2, failedStep: 0 }, [{ name: "lint", status: "failure", exitCode: 2, lines: ["3 problems"] }]);
    await settle(test.database);

    const statuses = shown(project);
    expect(Object.keys(statuses).sort()).toEqual(["gust/ci", "gust/ci/after-bad", "gust/ci/bad", "gust/ci/ok"]);
    expect(statuses["gust/ci/ok"]).toMatchObject({ sha, ref: "main", status: "success", target_url: `${PUBLIC_URL}/jobs/${await jobId(pipelineId, "ok")}` });
    expect(statuses["gust/ci/bad"]).toMatchObject({ status: "failed", description: "Failed at step 'lint' (exit code 2)" });
    expect(statuses["gust/ci/after-bad"]).toMatchObject({ status: "skipped", description: "needs 'bad' failed" });
    expect(statuses["gust/ci"]).toMatchObject({ status: "failed", target_url: `${PUBLIC_URL}/pipelines/${pipelineId}`, description: "1 succeeded, 1 failed, 1 skipped" });
    expect(posted(project, "gust/ci/ok")).toEqual(["pending", "running", "success"]);
    expect(posted(project, "gust/ci/bad")).toEqual(["pending", "running", "failed"]);
    expect(posted(project, "gust/ci/after-bad")).toEqual(["pending", "skipped"]);
  });

  it("cancels the statuses of a cancelled pipeline's jobs and of the pipeline", async () => {
    const { project, sha, driver } = await setup();
    await driver.createPipeline(sha, [plannedJob("slow"), plannedJob("later", { needs: ["slow"] })]);
    await settle(test.database);
    await driver.cancel();
    await settle(test.database);
    const statuses = shown(project);
    expect(statuses["gust/ci/slow"]).toMatchObject({ status: "canceled" });
    expect(statuses["gust/ci/later"]).toMatchObject({ status: "canceled" });
    expect(statuses["gust/ci"]).toMatchObject({ status: "canceled" });
    expect(posted(project, "gust/ci/slow")).toEqual(["pending", "canceled"]);
  });
});
