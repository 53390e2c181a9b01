// `gust serve` end to end, statuses back to GitHub: a signed push webhook → the pipelines of the
// commit run on the local executor → the GitHub stand-in ends with a completed check run per job
// (success, failure with the failing step and its log, skipped) and per pipeline run, and a broken
// pipeline file in the same push shows as a failed check with the whole error.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/main/serve";
import { git, tempRepo } from "../helpers/gust-cli";
import { deliverGithub, githubPushPayload } from "../helpers/github-payloads";
import { registerGithubRepository, serveConfig } from "../helpers/serve-fixture";
import { GithubApiStandIn, type CheckRun } from "../stand-ins/github-api";

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

    await registerGithubRepository({ dataDir, fullName: "acme/app", apiUrl: standIn.baseUrl, cloneUrl: repoDir, token: TOKEN });
    const config = serveConfig(dataDir, { argv: ["--public-url", PUBLIC_URL], env: { GUST_GITHUB_WEBHOOK_SECRETS: WEBHOOK_SECRET } });
    server = await startServer(config, pino({ level: "silent" }));
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(repoDir, { recursive: true, force: true });
  });


  const check = (name: string): CheckRun | undefined => standIn.checkRuns("acme/app", sha).find((run) => run.name === name);

  it("ends with each job's and each pipeline run's check run completed with its conclusion", async () => {
    const body = githubPushPayload({ fullName: "acme/app", sha, cloneUrl: repoDir });
    const response = await deliverGithub(server!.url, { body, event: "push", delivery: "statuses-1", secret: WEBHOOK_SECRET });
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
