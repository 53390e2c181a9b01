// How GitHub failures come out: typed ForgeErrors that say whether to retry (and when), and what
// is wrong with the credentials. One attempt per call: the stand-in sees each failing call once.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ForgeError } from "../../src/errors";
import type { JobStatusUpdate } from "../../src/forges/forge";
import { GithubForge } from "../../src/forges/github";
import { GithubApiStandIn } from "../stand-ins/github-api";

const REPO = "acme/api";

describe("GitHub errors", () => {
  let api: GithubApiStandIn;
  let sha: string;

  beforeEach(async () => {
    api = await GithubApiStandIn.start();
    sha = api.addRepository(REPO).commit({ ".gust.yml": "jobs: {}\n" });
    api.addToken("ghp_good", { contents: "read", checks: "write", statuses: "write" });
    api.addToken("ghp_nocontents", { checks: "write" });
  });
  afterEach(async () => {
    await api.close();
  });

  const forge = (token = "ghp_good", timeoutMs?: number) =>
    new GithubForge({ baseUrl: api.baseUrl, credentials: { token }, ...(timeoutMs ? { timeoutMs } : {}) });
  const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as ForgeError);
  const job: JobStatusUpdate = { sha: "", ref: "refs/heads/main", pipelineName: "ci", jobKey: "t", jobName: "t", state: "running" };

  it("5xx: retryable, and the next call goes through", async () => {
    api.failNext(1, { status: 502, body: { message: "Server Error" } });
    const error = await failure(forge().readFile(REPO, sha, ".gust.yml"));
    expect(error).toBeInstanceOf(ForgeError);
    expect(error).toMatchObject({ fault: "infrastructure", retryable: true, code: "forge_unavailable", status: 502 });
    expect(error?.message).toMatch(/GitHub failed \(HTTP 502\) when trying to read \.gust\.yml at [0-9a-f]{7} in acme\/api/);
    // No hidden retries: one request for the failed call.
    expect(api.requests).toHaveLength(1);
    expect(await forge().readFile(REPO, sha, ".gust.yml")).toBe("jobs: {}\n");
  });

  it("429 with Retry-After: retryable after the given wait", async () => {
    api.failNext(1, { status: 429, headers: { "retry-after": "30" }, body: { message: "API rate limit exceeded" } });
    const error = await failure(forge().listPipelineFiles(REPO, sha));
    expect(error).toMatchObject({ retryable: true, code: "forge_rate_limited", retryAfterMs: 30_000, status: 429 });
    expect(error?.message).toMatch(/retry after 30s/);
  });

  it("403 of a secondary rate limit: retryable, not a permission problem", async () => {
    api.failNext(1, { status: 403, headers: { "retry-after": "60" }, body: { message: "You have exceeded a secondary rate limit." } });
    const error = await failure(forge().reportJob(REPO, { ...job, sha }));
    expect(error).toMatchObject({ retryable: true, code: "forge_rate_limited", retryAfterMs: 60_000 });
    // A rate limit is not a refusal of checks: no fallback to statuses happened.
    expect(api.statuses(REPO)).toHaveLength(0);
  });

  it("403 of an exhausted primary rate limit: retryable until the reset time", async () => {
    const reset = Math.floor(Date.now() / 1000) + 120;
    api.failNext(1, { status: 403, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) }, body: { message: "API rate limit exceeded for installation ID 1." } });
    const error = await failure(forge().readFile(REPO, sha, ".gust.yml"));
    expect(error).toMatchObject({ retryable: true, code: "forge_rate_limited" });
    expect(error?.retryAfterMs).toBeGreaterThan(100_000);
    expect(error?.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it("401: not retryable, the token is wrong", async () => {
    const error = await failure(forge("ghp_revoked").readFile(REPO, sha, ".gust.yml"));
    expect(error).toMatchObject({ retryable: false, code: "forge_unauthorized", status: 401 });
    expect(error?.message).toMatch(/GitHub rejected the credentials when trying to read \.gust\.yml.*\(Bad credentials\).*the token is wrong, expired or revoked/);
  });

  it("403 without permission: not retryable, names the permission", async () => {
    const error = await failure(forge("ghp_nocontents").readFile(REPO, sha, ".gust.yml"));
    expect(error).toMatchObject({ retryable: false, code: "forge_forbidden", status: 403 });
    expect(error?.message).toMatch(/Resource not accessible by personal access token.*lack the contents: read permission/);
  });

  it("422: not retryable, with GitHub's own words", async () => {
    const error = await failure(forge().reportJob(REPO, { ...job, sha: "f".repeat(40) }));
    expect(error).toMatchObject({ retryable: false, code: "forge_rejected", status: 422 });
    expect(error?.message).toContain(`No commit found for SHA: ${"f".repeat(40)}`);
  });

  it("a repository that does not exist: not found, not retryable", async () => {
    const error = await failure(forge().listPipelineFiles("acme/nothing", sha));
    expect(error).toMatchObject({ retryable: false, code: "forge_not_found", status: 404 });
  });

  it("a dropped connection: retryable network error", async () => {
    api.failNext(1, { reset: true });
    const error = await failure(forge().readFile(REPO, sha, ".gust.yml"));
    expect(error).toMatchObject({ retryable: true, code: "forge_unreachable" });
    expect(error?.message).toMatch(/could not reach GitHub when trying to read \.gust\.yml/);
  });

  it("a forge that does not answer: retryable once the timeout passes", async () => {
    api.failNext(1, { hang: true });
    const error = await failure(forge("ghp_good", 300).readFile(REPO, sha, ".gust.yml"));
    expect(error).toMatchObject({ retryable: true, code: "forge_unreachable" });
  });

  it("a failed report is sent again when retried", async () => {
    const github = forge();
    api.failNext(1, { status: 500, match: (request) => request.method === "POST" });
    await expect(github.reportJob(REPO, { ...job, sha })).rejects.toMatchObject({ retryable: true });
    const receipt = await github.reportJob(REPO, { ...job, sha });
    expect(receipt.via).toBe("checks");
    expect(api.checkRuns(REPO, sha)).toHaveLength(1);
  });
});
