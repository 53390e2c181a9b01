// GitHub reports beyond the contract: check run fields, output limits, reuse of the check run id
// after a restart, and the fallback to commit statuses for credentials without checks permission.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JobStatusUpdate } from "../../src/forges/forge";
import { GithubForge } from "../../src/forges/github";
import { GithubApiStandIn } from "../stand-ins/github-api";
import { appKeyPair } from "./harnesses";

const REPO = "acme/api";

describe("GitHub reports", () => {
  let api: GithubApiStandIn;
  let sha: string;
  const logs: string[] = [];

  beforeEach(async () => {
    api = await GithubApiStandIn.start();
    sha = api.addRepository(REPO).commit({ "a.txt": "a\n" });
    api.addToken("ghp_checks", { contents: "read", checks: "write", statuses: "write" });
    // A classic or fine-grained token without the Checks permission: commit statuses only.
    api.addToken("ghp_plain", { contents: "read", statuses: "write" });
    api.addToken("ghp_readonly", { contents: "read" });
    logs.length = 0;
  });
  afterEach(async () => {
    await api.close();
  });

  const forge = (token = "ghp_checks") => new GithubForge({ baseUrl: api.baseUrl, credentials: { token }, log: (line) => logs.push(line) });
  const job = (overrides: Partial<JobStatusUpdate> = {}): JobStatusUpdate => ({
    sha,
    ref: "refs/heads/main",
    branch: "main",
    pipelineName: "ci",
    jobKey: "test-node-20",
    jobName: "test (node: 20)",
    state: "queued",
    detailsUrl: "https://gust.example.com/acme/api/pipelines/7#test-node-20",
    externalId: "42",
    ...overrides,
  });

  describe("check runs", () => {
    it("creates one check run per job and moves it to its conclusion", async () => {
      const github = forge();
      const { reportId } = await github.reportJob(REPO, job());
      await github.reportJob(REPO, job({ state: "running", startedAt: "2025-03-01T10:00:00Z", reportId }));
      await github.reportJob(REPO, job({ state: "timed_out", completedAt: "2025-03-01T10:30:00Z", reportId, failure: { stepName: "e2e", reason: "timed out after 30m" } }));
      expect(api.find("POST", /check-runs$/)).toHaveLength(1);
      expect(api.find("PATCH", /check-runs\/\d+$/)).toHaveLength(2);
      expect(api.checkRuns(REPO, sha)).toEqual([
        expect.objectContaining({
          id: Number(reportId),
          name: "ci / test (node: 20)",
          head_sha: sha,
          status: "completed",
          conclusion: "timed_out",
          external_id: "42",
          details_url: "https://gust.example.com/acme/api/pipelines/7#test-node-20",
          started_at: "2025-03-01T10:00:00Z",
          completed_at: "2025-03-01T10:30:00Z",
          output: expect.objectContaining({ title: "Timed out at step `e2e` (timed out after 30m)" }),
        }),
      ]);
    });

    it("gives each attempt its own check run", async () => {
      const github = forge();
      await github.reportJob(REPO, job({ state: "failure" }));
      await github.reportJob(REPO, job({ state: "queued", attempt: 2 }));
      expect(api.checkRuns(REPO, sha).map((run) => run.status)).toEqual(["completed", "queued"]);
    });

    it("updates the same check run after a restart when given its id", async () => {
      const { reportId } = await forge().reportJob(REPO, job({ state: "running" }));
      const restarted = forge();
      await restarted.reportJob(REPO, job({ state: "success", reportId }));
      expect(api.checkRuns(REPO, sha)).toEqual([expect.objectContaining({ id: Number(reportId), conclusion: "success" })]);
    });

    it("sends nothing for an update it already sent", async () => {
      const github = forge();
      const first = await github.reportJob(REPO, job({ state: "running" }));
      const again = await github.reportJob(REPO, job({ state: "running", reportId: first.reportId }));
      expect(again).toEqual(first);
      expect(api.requests.filter((request) => request.rawPath.includes("check-runs"))).toHaveLength(1);
    });

    it("creates one check run even when updates of a job are sent without waiting", async () => {
      const github = forge();
      const receipts = await Promise.all([github.reportJob(REPO, job()), github.reportJob(REPO, job({ state: "running" })), github.reportJob(REPO, job({ state: "success" }))]);
      expect(new Set(receipts.map((receipt) => receipt.reportId)).size).toBe(1);
      expect(api.checkRuns(REPO, sha)).toEqual([expect.objectContaining({ conclusion: "success" })]);
    });

    it("fits a huge log into GitHub's 65535 characters, keeping its end", async () => {
      const logTail = Array.from({ length: 5_000 }, (_, index) => `\u001b[2mline ${index}\u001b[0m ${"x".repeat(40)}`);
      await forge().reportJob(REPO, job({ state: "failure", failure: { stepName: "build", stepIndex: 0, exitCode: 2, logTail } }));
      const [run] = api.checkRuns(REPO, sha);
      const text = run?.output.text ?? "";
      expect(text.length).toBeLessThanOrEqual(65_535);
      expect(text).toContain(`line 4999 ${"x".repeat(40)}`);
      expect(text).not.toContain("line 0 ");
      expect(text).toMatch(/… \d+ earlier lines cut/);
      expect(text).not.toContain("\u001b");
    });

    it("reports a pipeline as its own check run with the summary it is given", async () => {
      await forge().reportPipeline(REPO, {
        sha,
        ref: "refs/heads/main",
        pipelineName: "ci",
        state: "failure",
        summary: "`.gust.yml` line 3, column 5: jobs.test.steps: expected a list",
        detailsUrl: "https://gust.example.com/acme/api/pipelines/7",
      });
      expect(api.checkRuns(REPO, sha)).toEqual([
        expect.objectContaining({
          name: "ci",
          conclusion: "failure",
          output: expect.objectContaining({ title: "Pipeline failed", summary: expect.stringContaining("line 3, column 5") }),
        }),
      ]);
    });
  });

  describe("commit statuses when checks are refused", () => {
    it("falls back on 403 and remembers it for the repository", async () => {
      const github = forge("ghp_plain");
      const receipt = await github.reportJob(REPO, job({ state: "running" }));
      expect(receipt).toEqual({ via: "commit-status" });
      await github.reportJob(REPO, job({ state: "success" }));
      await github.reportJob(REPO, job({ jobKey: "lint", jobName: "lint", state: "skipped", description: "skipped: on.push paths did not match" }));
      // Checks were tried once; everything after went straight to statuses.
      expect(api.find("POST", /check-runs$/)).toHaveLength(1);
      expect(api.statuses(REPO, sha).map(({ context, state, description, target_url }) => ({ context, state, description, target_url }))).toEqual([
        { context: "gust/ci/test (node: 20)", state: "pending", description: "Running", target_url: "https://gust.example.com/acme/api/pipelines/7#test-node-20" },
        { context: "gust/ci/test (node: 20)", state: "success", description: "Succeeded", target_url: "https://gust.example.com/acme/api/pipelines/7#test-node-20" },
        { context: "gust/ci/lint", state: "success", description: "skipped: on.push paths did not match", target_url: "https://gust.example.com/acme/api/pipelines/7#test-node-20" },
      ]);
      expect(logs.join("\n")).toMatch(/lack the checks: write permission.*commit statuses instead/);
    });

    it("maps failures and cancellations and keeps descriptions within 140 characters", async () => {
      const github = forge("ghp_plain");
      await github.reportJob(REPO, job({ state: "failure", failure: { stepName: `npm run ${"very-long-script-name-".repeat(10)}`, exitCode: 1 } }));
      await github.reportPipeline(REPO, { sha, ref: "refs/heads/main", pipelineName: "ci", state: "cancelled" });
      const [failed, cancelled] = api.statuses(REPO, sha);
      expect(failed).toMatchObject({ state: "failure" });
      expect(failed?.description?.length).toBeLessThanOrEqual(140);
      expect(failed?.description).toMatch(/^Failed at step 'npm run very-long/);
      expect(cancelled).toMatchObject({ context: "gust/ci", state: "error", description: "Pipeline cancelled" });
    });

    it("falls back for an App without the Checks permission too", async () => {
      const keys = appKeyPair();
      api.configureApp({ appId: "9", key: keys.publicKey, permissions: { contents: "read", statuses: "write" }, installations: { [REPO]: 5 } });
      const github = new GithubForge({ baseUrl: api.baseUrl, credentials: { appId: 9, privateKey: keys.privateKey } });
      expect(await github.reportJob(REPO, job())).toEqual({ via: "commit-status" });
      expect(api.statuses(REPO, sha)).toHaveLength(1);
    });

    it("says which permissions are missing when statuses are refused as well", async () => {
      const error = await forge("ghp_readonly")
        .reportJob(REPO, job())
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: "forge_forbidden", retryable: false, status: 403 });
      expect((error as Error).message).toMatch(/refused to set commit status 'gust\/ci\/test \(node: 20\)'.*lack the statuses: write permission/);
    });
  });
});
