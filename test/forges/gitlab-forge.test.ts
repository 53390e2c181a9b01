// GitLab beyond the contract: one attempt per call (gitbeaker's own retries are off), typed errors,
// scopes, GitLab's status state machine across a restart, refs, and paginated merge request diffs.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ForgeError } from "../../src/errors";
import type { JobStatusUpdate } from "../../src/forges/forge";
import { GitlabForge } from "../../src/forges/gitlab";
import { GitlabApiStandIn } from "../stand-ins/gitlab-api";
import type { FakeRepository } from "../stand-ins/fake-repository";

const PROJECT = "acme/platform/api";

describe("GitLab forge", () => {
  let api: GitlabApiStandIn;
  let project: FakeRepository;
  let sha: string;

  beforeEach(async () => {
    api = await GitlabApiStandIn.start();
    project = api.addProject(PROJECT);
    sha = project.commit({ ".gust.yml": "jobs: {}\n" });
    api.addToken("glpat-api", ["api"]);
    api.addToken("glpat-read", ["read_api"]);
  });
  afterEach(async () => {
    await api.close();
  });

  const forge = (token = "glpat-api", timeoutMs?: number) => new GitlabForge({ host: api.host, token, ...(timeoutMs ? { timeoutMs } : {}) });
  const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as ForgeError);
  const job = (overrides: Partial<JobStatusUpdate> = {}): JobStatusUpdate => ({
    sha,
    ref: "refs/heads/main",
    branch: "main",
    pipelineName: "ci",
    jobKey: "test",
    jobName: "test",
    state: "running",
    detailsUrl: "https://gust.example.com/p/1",
    ...overrides,
  });

  describe("errors", () => {
    it("502: retryable after exactly one request (no retry storm)", async () => {
      api.failNext(1, { status: 502, body: { message: "502 Bad Gateway" } });
      const error = await failure(forge().readFile(PROJECT, sha, ".gust.yml"));
      expect(error).toBeInstanceOf(ForgeError);
      expect(error).toMatchObject({ fault: "infrastructure", retryable: true, code: "forge_unavailable", status: 502 });
      expect(api.requests).toHaveLength(1);
      expect(await forge().readFile(PROJECT, sha, ".gust.yml")).toBe("jobs: {}\n");
    });

    it("429 with Retry-After: retryable after the given wait", async () => {
      api.failNext(1, { status: 429, headers: { "retry-after": "7", "ratelimit-remaining": "0" }, body: { message: "Retry later" } });
      const error = await failure(forge().reportJob(PROJECT, job()));
      expect(error).toMatchObject({ retryable: true, code: "forge_rate_limited", retryAfterMs: 7_000 });
      expect(api.requests).toHaveLength(1);
    });

    it("401: not retryable, the token is wrong", async () => {
      const error = await failure(forge("glpat-revoked").listPipelineFiles(PROJECT, sha));
      expect(error).toMatchObject({ retryable: false, code: "forge_unauthorized", status: 401 });
      expect(error?.message).toMatch(/GitLab rejected the credentials.*401 Unauthorized.*the token is wrong, expired or revoked/);
    });

    it("403 for a token without the api scope: names the scope", async () => {
      expect(await forge("glpat-read").readFile(PROJECT, sha, ".gust.yml")).toBe("jobs: {}\n");
      const error = await failure(forge("glpat-read").reportJob(PROJECT, job()));
      expect(error).toMatchObject({ retryable: false, code: "forge_forbidden", status: 403 });
      expect(error?.message).toMatch(/GitLab refused to set commit status 'gust\/ci\/test'.*lack the `api` scope permission/);
    });

    it("takes the API URL as host as well as the instance URL", async () => {
      expect(await new GitlabForge({ host: `${api.host}/api/v4/`, token: "glpat-api" }).readFile(PROJECT, sha, ".gust.yml")).toBe("jobs: {}\n");
    });

    it("a project that does not exist: not found", async () => {
      const error = await failure(forge().readFile("acme/missing", sha, ".gust.yml"));
      expect(error).toMatchObject({ retryable: false, code: "forge_not_found" });
      expect(error?.message).toContain("404 Project Not Found");
    });

    it("a dropped connection or no answer: retryable network errors", async () => {
      api.failNext(1, { reset: true });
      await expect(forge().readFile(PROJECT, sha, ".gust.yml")).rejects.toMatchObject({ retryable: true, code: "forge_unreachable" });
      api.failNext(1, { hang: true });
      await expect(forge("glpat-api", 300).readFile(PROJECT, sha, ".gust.yml")).rejects.toMatchObject({ retryable: true, code: "forge_unreachable" });
    });
  });

  describe("commit statuses", () => {
    it("posts name, ref, target_url and description with GitLab's state names", async () => {
      const gitlab = forge();
      await gitlab.reportJob(PROJECT, job({ state: "queued" }));
      await gitlab.reportJob(PROJECT, job({ state: "running" }));
      await gitlab.reportJob(PROJECT, job({ state: "failure", failure: { stepName: "npm test", exitCode: 1 } }));
      await gitlab.reportJob(PROJECT, job({ jobKey: "docs", jobName: "docs", state: "skipped" }));
      await gitlab.reportJob(PROJECT, job({ jobKey: "lint", jobName: "lint", state: "cancelled" }));
      const posted = api.find("POST", /\/statuses\//).map((request) => request.body);
      expect(posted).toEqual([
        { state: "pending", name: "gust/ci/test", ref: "main", target_url: "https://gust.example.com/p/1", description: "Queued" },
        { state: "running", name: "gust/ci/test", ref: "main", target_url: "https://gust.example.com/p/1", description: "Running" },
        { state: "failed", name: "gust/ci/test", ref: "main", target_url: "https://gust.example.com/p/1", description: "Failed at step 'npm test' (exit code 1)" },
        { state: "skipped", name: "gust/ci/docs", ref: "main", target_url: "https://gust.example.com/p/1", description: "Skipped" },
        { state: "canceled", name: "gust/ci/lint", ref: "main", target_url: "https://gust.example.com/p/1", description: "Cancelled" },
      ]);
      // One status moved through its states; the others each got their own.
      expect(api.statuses(PROJECT, sha).map((status) => `${status.name}:${status.status}`)).toEqual(["gust/ci/test:failed", "gust/ci/docs:skipped", "gust/ci/lint:canceled"]);
    });

    it("after a restart, a state GitLab already shows is not an error", async () => {
      const { reportId } = await forge().reportJob(PROJECT, job({ state: "running" }));
      const restarted = forge();
      const receipt = await restarted.reportJob(PROJECT, job({ state: "running", reportId }));
      expect(receipt).toEqual({ reportId, via: "commit-status" });
      // GitLab did refuse the second transition (running → running): that refusal meant "already shown".
      expect(api.find("POST", /\/statuses\//)).toHaveLength(2);
      expect(api.statuses(PROJECT, sha)).toEqual([expect.objectContaining({ status: "running" })]);
    });

    it("files statuses under the tag, or the source branch of a merge request", async () => {
      await forge().reportJob(PROJECT, job({ ref: "refs/tags/v1.2.0", branch: undefined, tag: "v1.2.0" }));
      await forge().reportPipeline(PROJECT, { sha, ref: "refs/merge-requests/3/head", branch: "feature/login", pipelineName: "ci", state: "queued" });
      expect(api.find("POST", /\/statuses\//).map((request) => (request.body as { ref: string }).ref)).toEqual(["v1.2.0", "feature/login"]);
    });

    it("keeps descriptions within 255 characters", async () => {
      await forge().reportJob(PROJECT, job({ state: "failure", description: "x".repeat(400) }));
      const [status] = api.statuses(PROJECT, sha);
      expect(status?.description).toHaveLength(255);
      expect(status?.description?.endsWith("…")).toBe(true);
    });
  });

  describe("changed files", () => {
    it("pages through every diff of a large merge request", async () => {
      const files: Record<string, string> = {};
      for (let index = 0; index < 230; index += 1) files[`src/file-${index}.ts`] = `export const n = ${index};\n`;
      const head = project.commit(files, sha);
      api.addMergeRequest(PROJECT, { iid: 9, baseSha: sha, headSha: head });
      const changed = await forge().changedFiles(PROJECT, {
        context: { event: "merge_request", ref: "refs/merge-requests/9/head", sha: head, branch: "big", targetBranch: "main", action: "opened" },
        changes: { kind: "review", number: 9, headSha: head },
      });
      expect(changed).toHaveLength(231);
      expect(changed).toContain(".gust.yml");
      expect(api.find("GET", /merge_requests\/9\/diffs$/)).toHaveLength(3);
    });

    it("does not know the changes of a push whose old commit is gone", async () => {
      const changed = await forge().changedFiles(PROJECT, {
        context: { event: "push", ref: "refs/heads/main", sha, branch: "main" },
        changes: { kind: "push", before: "e".repeat(40), after: sha },
      });
      expect(changed).toBeUndefined();
    });
  });
});
