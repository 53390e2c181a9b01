// `gust serve` end to end, statuses back to GitHub: a signed push webhook → the pipelines of the
// commit run on the local executor → the GitHub stand-in ends with a completed check run per job
// (success, failure with the failing step and its log, skipped) and per pipeline run, and a broken
// pipeline file in the same push shows as a failed check with the whole error.
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { signGithubBody } from "../../src/http";
import { startServer, type RunningServer } from "../../src/main/serve";
import { applyMigrations, loadOrCreateKeyFile, openDatabase, RepositoriesStore, Sealer } from "../../src/store";
import { git, tempRepo } from "../helpers/gust-cli";
import { GithubApiStandIn, type CheckRun } from "../stand-ins/github-api";

const require = createRequire(import.meta.url);
const examples = require("@octokit/webhooks-examples") as Array<{ name: string; examples: Array<Record<string, unknown>> }>;
const WEBHOOK_SECRET = "whsec-statuses-test";
const TOKEN = "ghp_statusestesttoken00000000000000000000";
const PUBLIC_URL = "https://gust.example.com";

const PIPELINE = `on: {push: {branches: [main]}}
jobs:
  build:
    steps:
      - name: compile
        run: echo compiled
  test:
    needs: build
    steps:
      - name: unit
        run: |
          echo "running unit tests"
          echo "expected 2 to equal 3"
          exit 3
  deploy:
    needs: test
    steps: [{run: echo deploying}]
`;
const BROKEN = "jbos:\n  build:\n    steps: [{run: echo}]\n";

describe("gust serve: job and pipeline statuses on GitHub", () => {
  let dataDir: string;
  let standIn: GithubApiStandIn;
  let server: RunningServer | undefined;
  let repoDir: string;
  let sha: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gust-statuses-"));
    repoDir = tempRepo({ ".gust.yml": PIPELINE, ".gust/broken.yml": BROKEN, "README.md": "app\n" }, { git: true });
    sha = git(repoDir, ["rev-parse", "HEAD"]);

    standIn = await GithubApiStandIn.start();
    standIn.addRepository("acme/app").commit({ ".gust.yml": PIPELINE, ".gust/broken.yml": BROKEN, "README.md": "app\n" }, undefined, sha);
    standIn.addToken(TOKEN, { contents: "read", checks: "write", statuses: "write" });

    const database = await openDatabase({ dataDir });
    await applyMigrations(database);
    const repositories = new RepositoriesStore(database, new Sealer((await loadOrCreateKeyFile(join(dataDir, "master.key"))).key));
    const repository = await repositories.createRepository({ forge: "github", fullName: "acme/app", apiUrl: standIn.baseUrl, settings: { cloneUrl: repoDir } });
    await repositories.setCredentials(repository.id, { token: TOKEN });
    await database.close();

    const config = loadConfig({
      argv: ["--data-dir", dataDir, "--port", "0", "--host", "127.0.0.1", "--public-url", PUBLIC_URL],
      env: { GUST_GITHUB_WEBHOOK_SECRETS: WEBHOOK_SECRET, GUST_LOG_LEVEL: "silent" },
      readFile: () => {
        throw new Error("no config file");
      },
    });
    server = await startServer(config, pino({ level: "silent" }));
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(repoDir, { recursive: true, force: true });
  });

  function pushPayload(): string {
    const example = structuredClone(examples.find((e) => e.name === "push")!.examples[0]!) as Record<string, any>;
    example.ref = "refs/heads/main";
    example.after = sha;
    example.before = "0".repeat(40);
    example.created = true;
    example.deleted = false;
    example.head_commit = { ...(example.head_commit ?? {}), id: sha };
    example.repository = { ...example.repository, full_name: "acme/app", name: "app", owner: { ...example.repository.owner, login: "acme", name: "acme" }, default_branch: "main", clone_url: repoDir };
    return JSON.stringify(example);
  }

  const check = (name: string): CheckRun | undefined => standIn.checkRuns("acme/app", sha).find((run) => run.name === name);

  it("ends with each job's and each pipeline run's check run completed with its conclusion", async () => {
    const body = pushPayload();
    const response = await fetch(`${server!.url}/hooks/github`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": "statuses-1", "x-hub-signature-256": signGithubBody(body, WEBHOOK_SECRET) },
      body,
    });
    expect(response.status).toBe(202);

    // Each job's and pipeline's updates are sent in order, but independently of the others'.
    const done = () => check("app")?.status === "completed" && check("broken")?.status === "completed" && check("app / deploy")?.status === "completed";
    for (let i = 0; i < 600 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 100));

    expect(check("app / build")).toMatchObject({ status: "completed", conclusion: "success", head_sha: sha });
    expect(check("app / build")!.details_url).toMatch(new RegExp(`^${PUBLIC_URL}/jobs/\\d+$`));
    const test = check("app / test")!;
    expect(test).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(test.output.title).toBe("Failed at step `unit` (exit code 3)");
    expect(test.output.text).toContain("expected 2 to equal 3");
    expect(check("app / deploy")).toMatchObject({ status: "completed", conclusion: "skipped" });
    const pipeline = check("app")!;
    expect(pipeline).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(pipeline.details_url).toMatch(new RegExp(`^${PUBLIC_URL}/pipelines/\\d+$`));
    expect(pipeline.output.summary).toMatch(/\| \[test\]\(.*\) \| Failed: step 'unit' exited with 3 \|/);

    const broken = check("broken")!;
    expect(broken).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(broken.output.summary).toContain(".gust/broken.yml:1:1: error: unknown key 'jbos'");
    expect(broken.output.summary).toContain("hint: did you mean 'jobs'?");
    // One check run each, created once and then updated.
    expect(standIn.checkRuns("acme/app", sha).map((run) => run.name).sort()).toEqual(["app", "app / build", "app / deploy", "app / test", "broken"]);
  }, 120_000);
});
