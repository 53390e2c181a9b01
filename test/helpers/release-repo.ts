// What the release end-to-end tests share: a git repository whose commits are pushed to Gust as
// signed GitHub webhooks (the GitHub stand-in holds the same commits), the release check of a
// commit, and waiting for a condition without timing assertions.
import { createServer, type Server } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { expect } from "vitest";
import { startServer } from "../../src/main/serve";
import { GithubApiStandIn, type CheckRun } from "../stand-ins/github-api";
import type { FakeRepository } from "../stand-ins/fake-repository";
import { deliverGithub, githubPushPayload } from "./github-payloads";
import { git, tempRepo } from "./gust-cli";
import { registerGithubRepository, serveConfig } from "./serve-fixture";

export class ReleaseRepo {
  private readonly shas: string[] = [];

  constructor(
    readonly dir: string,
    private readonly remote: FakeRepository,
    private readonly standIn: GithubApiStandIn,
    private readonly webhookSecret: string,
  ) {}

  /** Writes the files, commits and pushes: the stand-in gets the commit, `serverUrl` the webhook. */
  async push(serverUrl: string, files: Record<string, string>): Promise<string> {
    for (const [path, content] of Object.entries(files)) await writeFile(join(this.dir, path), content);
    git(this.dir, ["add", "-A"]);
    // The first push may carry the repository's first commit unchanged.
    if (git(this.dir, ["status", "--porcelain"]) !== "" || this.shas.length > 0) git(this.dir, ["commit", "-q", "--allow-empty", "-m", `push ${this.shas.length + 1}`]);
    const sha = git(this.dir, ["rev-parse", "HEAD"]);
    const tree = Object.fromEntries(
      git(this.dir, ["ls-files"])
        .split("\n")
        .filter(Boolean)
        .map((path) => [path, git(this.dir, ["show", `HEAD:${path}`])]),
    );
    this.remote.commit(tree, this.shas.at(-1), sha);
    this.shas.push(sha);
    const response = await deliverGithub(serverUrl, { body: githubPushPayload({ fullName: "acme/app", sha, cloneUrl: this.dir }), event: "push", delivery: `push-${sha}`, secret: this.webhookSecret });
    expect(response.status).toBe(202);
    return sha;
  }

  /** The check run of the commit's release, once there is one. */
  releaseCheck(sha: string): CheckRun | undefined {
    return this.standIn.checkRuns("acme/app", sha).find((run) => run.name.includes("release to "));
  }

  /** The release check once it completed. */
  completed(sha: string): Promise<CheckRun> {
    return until(`the release check of ${sha} to complete`, () => {
      const check = this.releaseCheck(sha);
      return check?.status === "completed" ? check : undefined;
    });
  }
}

/** Polls `probe` until it gives a value (not undefined or false); fails after `timeoutMs`. */
export async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Answers each instant query with the error rate set for the version named in it; records the queries. */
export async function prometheusStandIn(errorRates: Map<string, number>, versionPattern = /version="([^"]*)"/) {
  const queries: string[] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url!, "http://prometheus");
    const query = url.searchParams.get("query") ?? "";
    queries.push(query);
    const version = versionPattern.exec(query)?.[1] ?? "";
    const rate = errorRates.get(version);
    response.setHeader("content-type", "application/json");
    if (url.pathname !== "/api/v1/query") {
      response.statusCode = 404;
      return response.end(JSON.stringify({ status: "error", errorType: "not_found", error: "not found" }));
    }
    const result = rate === undefined ? [] : [{ metric: {}, value: [Number(url.searchParams.get("time")), String(rate)] }];
    response.end(JSON.stringify({ status: "success", data: { resultType: "vector", result } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, queries, close: () => new Promise((resolve) => server.close(resolve)) };
}

export const RELEASE_TEST_ACCESS_KEY = { id: "LTAI5tGustReleaseTest", secret: "release-test-secret-0123456789abcdef" };

/**
 * A `gust serve` in this process with a GitHub repository registered (the GitHub stand-in, a git
 * repository with `files` to clone from) and the Alibaba Cloud settings of the stand-ins in `env`.
 */
export async function startReleaseServe(options: { files: Record<string, string>; env: Record<string, string> }) {
  const webhookSecret = "whsec-release-e2e";
  const token = "ghp_releasee2etoken000000000000000000000000";
  const dataDir = await mkdtemp(join(tmpdir(), "gust-release-e2e-"));
  const repoDir = tempRepo(options.files, { git: true });
  const github = await GithubApiStandIn.start();
  const repo = new ReleaseRepo(repoDir, github.addRepository("acme/app"), github, webhookSecret);
  github.addToken(token, { contents: "read", checks: "write", statuses: "write" });
  await registerGithubRepository({ dataDir, fullName: "acme/app", apiUrl: github.baseUrl, cloneUrl: repoDir, token });
  const env = {
    GUST_GITHUB_WEBHOOK_SECRETS: webhookSecret,
    GUST_ALICLOUD_PROTOCOL: "http",
    GUST_ALICLOUD_ACCESS_KEY_ID: RELEASE_TEST_ACCESS_KEY.id,
    GUST_ALICLOUD_ACCESS_KEY_SECRET: RELEASE_TEST_ACCESS_KEY.secret,
    ...options.env,
  };
  const server = await startServer(serveConfig(dataDir, { env }), pino({ level: "silent" }));
  return {
    repo,
    push: (files: Record<string, string>) => repo.push(server.url, files),
    async close() {
      await server.stop();
      await github.close();
      await rm(dataDir, { recursive: true, force: true });
      await rm(repoDir, { recursive: true, force: true });
    },
  };
}
