// `gust serve` end to end: a signed GitHub push webhook (a real payload from
// @octokit/webhooks-examples) → delivery stored → .gust.yml read at the commit through octokit from
// the GitHub stand-in → pipeline planned and queued → the job cloned and run by the local executor
// → steps, masked logs and results in the database. A redelivery creates nothing new.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signGithubBody } from "../../src/http";
import { DatabaseLogStore } from "../../src/logs/database-log-store";
import { startServer, type RunningServer } from "../../src/main/serve";
import { openDatabase } from "../../src/store";
import { deliveries, jobs, pipelines, steps } from "../../src/store/schema";
import { git, tempRepo } from "../helpers/gust-cli";
import { deliverGithub, githubPushPayload } from "../helpers/github-payloads";
import { registerGithubRepository, serveConfig } from "../helpers/serve-fixture";
import { GithubApiStandIn } from "../stand-ins/github-api";

const WEBHOOK_SECRET = "whsec-serve-test";
const TOKEN = "ghp_servetesttoken0000000000000000000000";

describe("gust serve: GitHub push → pipeline run", () => {
  let dataDir: string;
  let standIn: GithubApiStandIn;
  let server: RunningServer | undefined;
  let repoDir: string;
  let sha: string;
  let marker: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gust-serve-"));
    marker = join(dataDir, "ran.txt");
    repoDir = tempRepo(
      {
        ".gust.yml": `on: {push: {branches: [main]}}
jobs:
  build:
    secrets: [DEPLOY_TOKEN]
    steps:
      - name: greet
        run: echo "building $GUST_COMMIT with $DEPLOY_TOKEN"
      - name: mark
        run: echo "$GUST_JOB" > "${marker}"
  after:
    needs: build
    steps: [{run: echo after-build}]
`,
        "README.md": "app\n",
      },
      { git: true },
    );
    sha = git(repoDir, ["rev-parse", "HEAD"]);

    standIn = await GithubApiStandIn.start();
    standIn.addRepository("acme/app").commit({ ".gust.yml": await readFile(join(repoDir, ".gust.yml"), "utf8"), "README.md": "app\n" }, undefined, sha);
    standIn.addToken(TOKEN, { contents: "read", checks: "write", statuses: "write" });

    // Registered the way `gust repo add` does it: before the server opens the embedded database.
    await registerGithubRepository({ dataDir, fullName: "acme/app", apiUrl: standIn.baseUrl, cloneUrl: repoDir, token: TOKEN, secrets: { DEPLOY_TOKEN: "dtok-51f0c3a9" } });
    const config = serveConfig(dataDir, { env: { GUST_GITHUB_WEBHOOK_SECRETS: WEBHOOK_SECRET } });
    server = await startServer(config, pino({ level: "silent" }));
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(repoDir, { recursive: true, force: true });
  });


  const pushPayload = () => githubPushPayload({ fullName: "acme/app", sha, cloneUrl: repoDir });
  const deliver = (body: string, delivery: string) => deliverGithub(server!.url, { body, event: "push", delivery, secret: WEBHOOK_SECRET });

  it("runs the pipeline of the pushed commit, and a redelivery creates nothing new", async () => {
    const body = pushPayload();
    const first = await deliver(body, "delivery-1");
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({ status: "created" });

    for (let i = 0; i < 600 && !existsSync(marker); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await readFile(marker, "utf8")).toBe("build\n");

    const again = await deliver(body, "delivery-1");
    expect(again.status).toBe(202);
    expect(await again.json()).toMatchObject({ status: "duplicate" });

    const unsigned = await fetch(`${server!.url}/hooks/github`, { method: "POST", headers: { "x-github-event": "push", "x-github-delivery": "delivery-2", "x-hub-signature-256": signGithubBody(body, "wrong") }, body });
    expect(unsigned.status).toBe(401);

    // The dependent job runs after; then stop the server to read its embedded database.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const metrics = await (await fetch(`${server!.url}/metrics`)).text();
    expect(metrics).toMatch(/^gust_job_duration_seconds_count\{executor="local",result="success"\} 2$/m);
    expect(metrics).toMatch(/^gust_queue_depth 0$/m);
    expect(metrics).toMatch(/^gust_webhooks_total\{forge="github",result="created"\} 1$/m);
    await server!.stop();
    server = undefined;
    const database = await openDatabase({ dataDir });
    try {
      const allPipelines = await database.db.select().from(pipelines);
      expect(allPipelines).toHaveLength(1);
      expect(allPipelines[0]).toMatchObject({ sha, event: "push", branch: "main", status: "success", number: 1 });
      const allJobs = await database.db.select().from(jobs).where(eq(jobs.pipelineId, allPipelines[0]!.id));
      expect(Object.fromEntries(allJobs.map((job) => [job.key, job.status]))).toEqual({ build: "success", after: "success" });
      const build = allJobs.find((job) => job.key === "build")!;
      const buildSteps = await database.db.select().from(steps).where(eq(steps.jobId, build.id));
      expect(buildSteps.map((step) => [step.name, step.status]).sort()).toEqual([["greet", "success"], ["mark", "success"]]);
      const lines = await new DatabaseLogStore(database.db).read(build.id, { afterLine: 0, limit: 1000 });
      const text = lines.map((line) => line.text).join("\n");
      expect(text).toContain(`building ${sha} with ***`);
      expect(text).not.toContain("dtok-51f0c3a9");
      const stored = await database.db.select().from(deliveries);
      expect(stored.map((d) => [d.deliveryId, d.status])).toEqual([["delivery-1", "processed"]]);
    } finally {
      await database.close();
    }
    // octokit read the pipeline file at the exact commit from the stand-in, with the token.
    expect(standIn.requests.some((request) => request.rawPath.includes(sha) || request.query.toString().includes(sha))).toBe(true);
    await writeFile(join(dataDir, "done"), "");
  }, 120_000);
});
