// `gust serve` end to end: `concurrency: {group, cancel-in-progress: true}`. A push starts a job
// that sleeps 30 s; a second push to the same branch creates a newer run of the group, which
// cancels the first: its running job is stopped (the process is gone long before the sleep
// would end) and ends cancelled, while the new run succeeds. GitHub stand-in, local executor,
// embedded database.
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asc, eq } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/main/serve";
import { openDatabase } from "../../src/store";
import { jobs, pipelines } from "../../src/store/schema";
import { git, tempRepo } from "../helpers/gust-cli";
import { deliverGithub, githubPushPayload } from "../helpers/github-payloads";
import { registerGithubRepository, serveConfig } from "../helpers/serve-fixture";
import { GithubApiStandIn } from "../stand-ins/github-api";

const WEBHOOK_SECRET = "whsec-concurrency-test";
const TOKEN = "ghp_concurrencytesttoken00000000000000000";

function pipelineFile(run: string): string {
  return `on: {push: {branches: [main]}}
concurrency: {group: 'deploy-\${{ branch }}', cancel-in-progress: true}
jobs:
  deploy:
    steps:
      - run: ${JSON.stringify(run)}
`;
}

describe("gust serve: cancel-in-progress", () => {
  let dataDir: string;
  let repoDir: string;
  let standIn: GithubApiStandIn;
  let server: RunningServer | undefined;
  let first: string;
  let second: string;
  let pidFile: string;
  let doneFile: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gust-serve-concurrency-"));
    pidFile = join(dataDir, "first.pid");
    doneFile = join(dataDir, "second.done");
    const slow = pipelineFile(`echo $$ > '${pidFile}'; sleep 30; echo slept`);
    const quick = pipelineFile(`echo done > '${doneFile}'`);
    repoDir = tempRepo({ ".gust.yml": slow }, { git: true });
    first = git(repoDir, ["rev-parse", "HEAD"]);
    await writeFile(join(repoDir, ".gust.yml"), quick);
    git(repoDir, ["commit", "-q", "-a", "-m", "second"]);
    second = git(repoDir, ["rev-parse", "HEAD"]);

    standIn = await GithubApiStandIn.start();
    const repository = standIn.addRepository("acme/app");
    repository.commit({ ".gust.yml": slow }, undefined, first);
    repository.commit({ ".gust.yml": quick }, first, second);
    standIn.addToken(TOKEN, { contents: "read", checks: "write", statuses: "write" });

    await registerGithubRepository({ dataDir, fullName: "acme/app", apiUrl: standIn.baseUrl, cloneUrl: repoDir, token: TOKEN });
    const config = serveConfig(dataDir, { argv: ["--shutdown-grace-ms", "1000"], env: { GUST_GITHUB_WEBHOOK_SECRETS: WEBHOOK_SECRET } });
    server = await startServer(config, pino({ level: "silent" }));
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(repoDir, { recursive: true, force: true });
  });

  const push = (sha: string, before: string) => githubPushPayload({ fullName: "acme/app", sha, before, cloneUrl: repoDir });

  async function deliver(body: string, delivery: string): Promise<void> {
    const response = await deliverGithub(server!.url, { body, event: "push", delivery, secret: WEBHOOK_SECRET });
    expect(response.status).toBe(202);
  }

  async function until(condition: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 600 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    if (!condition()) throw new Error(`gave up waiting for ${what}`);
  }

  function alive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  it("a second push cancels the first run's sleeping job; the new run succeeds", async () => {
    await deliver(push(first, "0".repeat(40)), "push-1");
    // The shell writes its pid before it sleeps; the file may exist a moment before it has the pid.
    await until(() => existsSync(pidFile) && /^\d+\n$/.test(readFileSync(pidFile, "utf8")), "the first job to start");
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    expect(alive(pid)).toBe(true);

    await deliver(push(second, first), "push-2");
    await until(() => !alive(pid), "the first job's process to be stopped");
    await until(() => existsSync(doneFile), "the second run's job");

    // Let the dispatcher record the outcomes, then read the embedded database with the server stopped.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await server!.stop();
    server = undefined;
    const database = await openDatabase({ dataDir });
    try {
      const runs = await database.db.select().from(pipelines).orderBy(asc(pipelines.id));
      expect(runs.map((run) => [run.sha, run.number, run.status, run.concurrencyGroup])).toEqual([
        [first, 1, "cancelled", "deploy-main"],
        [second, 2, "success", "deploy-main"],
      ]);
      const [firstJob] = await database.db.select().from(jobs).where(eq(jobs.pipelineId, runs[0]!.id));
      // Cancelled, not success: the 30 s sleep did not run to its end.
      expect(firstJob).toMatchObject({ key: "deploy", status: "cancelled" });
      const [secondJob] = await database.db.select().from(jobs).where(eq(jobs.pipelineId, runs[1]!.id));
      expect(secondJob).toMatchObject({ key: "deploy", status: "success" });
    } finally {
      await database.close();
    }
  }, 120_000);
});
