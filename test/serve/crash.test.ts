// Crash: `gust serve` is killed with SIGKILL in the middle of a pipeline and started again. The
// run the dead process left behind is stopped (never left going beside its retry), the job runs
// again as a new attempt, the pipeline finishes, and nothing that had finished runs twice. On the
// embedded database the restarted process knows it is the only one and reconciles at once; on
// PostgreSQL it waits for the dead replica's leases to run out.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/store";
import { jobs, pipelines } from "../../src/store/schema";
import { DATABASE_KINDS, scratchPostgres } from "../helpers/database";
import { deliverGithub, githubPushPayload } from "../helpers/github-payloads";
import { git, tempRepo } from "../helpers/gust-cli";
import { registerGithubRepository } from "../helpers/serve-fixture";
import { freePort, startServeProcess, type ServeProcess } from "../helpers/serve-process";
import { GithubApiStandIn } from "../stand-ins/github-api";

const WEBHOOK_SECRET = "whsec-crash-test";
const TOKEN = "ghp_crashtesttoken000000000000000000000";

describe.each(DATABASE_KINDS)("gust serve killed with SIGKILL mid-pipeline (%s)", (kind) => {
  let dataDir: string;
  let events: string;
  let repoDir: string;
  let sha: string;
  let standIn: GithubApiStandIn;
  let postgres: { url: string; drop(): Promise<void> } | undefined;
  let server: ServeProcess | undefined;
  let port: number;

  const env = (): Record<string, string> => ({
    GUST_GITHUB_WEBHOOK_SECRETS: WEBHOOK_SECRET,
    // Short leases so a dead replica's jobs are reconciled within seconds on PostgreSQL.
    GUST_LEASE_TIMEOUT_MS: "2000",
    ...(postgres ? { GUST_DATABASE_URL: postgres.url, GUST_MASTER_KEY_FILE: join(dataDir, "master.key") } : {}),
  });
  const open = (): Promise<Database> => openDatabase(postgres ? { url: postgres.url } : { dataDir });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gust-crash-"));
    events = join(dataDir, "events.log");
    const pipeline = `on: {push: {branches: [main]}}
jobs:
  first:
    steps: [{run: 'echo "first $GUST_ATTEMPT" >> "${events}"'}]
  slow:
    needs: first
    steps:
      - run: |
          echo "slow-start $GUST_ATTEMPT" >> "${events}"
          if [ "$GUST_ATTEMPT" = 1 ]; then sleep 60; fi
          echo "slow-end $GUST_ATTEMPT" >> "${events}"
  last:
    needs: slow
    steps: [{run: 'echo "last $GUST_ATTEMPT" >> "${events}"'}]
`;
    repoDir = tempRepo({ ".gust.yml": pipeline }, { git: true });
    sha = git(repoDir, ["rev-parse", "HEAD"]);
    standIn = await GithubApiStandIn.start();
    standIn.addRepository("acme/crash").commit({ ".gust.yml": pipeline }, undefined, sha);
    standIn.addToken(TOKEN, { contents: "read", checks: "write", statuses: "write" });
    if (kind === "postgres") postgres = await scratchPostgres();

    await registerGithubRepository({ dataDir, ...(postgres ? { databaseUrl: postgres.url } : {}), fullName: "acme/crash", apiUrl: standIn.baseUrl, cloneUrl: repoDir, token: TOKEN });
    port = await freePort();
  }, 120_000);

  afterAll(async () => {
    server?.child.kill("SIGKILL");
    await server?.exited;
    await standIn?.close();
    await postgres?.drop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(repoDir, { recursive: true, force: true });
  });

  async function eventLines(): Promise<string[]> {
    const text = existsSync(events) ? await readFile(events, "utf8") : "";
    return text.split("\n").filter((line) => line !== "");
  }

  async function waitForEvent(line: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await eventLines()).includes(line)) {
      if (Date.now() > deadline) throw new Error(`no '${line}' within ${timeoutMs} ms; events: ${(await eventLines()).join(", ")}\n${server?.output() ?? ""}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it("finishes the pipeline after a restart, with the interrupted job run again and nothing else twice", async () => {
    server = await startServeProcess({ dataDir, port, env: env() });
    const body = githubPushPayload({ fullName: "acme/crash", sha, cloneUrl: repoDir });
    const accepted = await deliverGithub(server.url, { body, event: "push", delivery: "crash-1", secret: WEBHOOK_SECRET });
    expect(accepted.status).toBe(202);
    await waitForEvent("slow-start 1", 60_000);

    server.child.kill("SIGKILL");
    expect(await server.exited).toBe("SIGKILL");
    server = await startServeProcess({ dataDir, port, env: env() });
    await waitForEvent("last 1", 90_000);

    server.child.kill("SIGTERM");
    expect(await server.exited).toBe("0");
    server = undefined;

    // The first attempt of `slow` was stopped, not left to finish beside the second.
    expect(await eventLines()).toEqual(["first 1", "slow-start 1", "slow-start 2", "slow-end 2", "last 1"]);
    const database = await open();
    try {
      const [pipeline, ...others] = await database.db.select().from(pipelines);
      expect(others).toEqual([]);
      expect(pipeline).toMatchObject({ sha, status: "success" });
      const rows = await database.db.select().from(jobs).where(eq(jobs.pipelineId, pipeline!.id));
      expect(Object.fromEntries(rows.map((job) => [job.key, [job.status, job.attempt]]))).toEqual({
        first: ["success", 1],
        slow: ["success", 2],
        last: ["success", 1],
      });
    } finally {
      await database.close();
    }
  }, 240_000);
});
