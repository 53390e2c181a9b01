// Contract harnesses: each forge against what it talks to — the GitHub and GitLab stand-ins, a
// temporary git repository for local.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ReportState } from "../../src/forges/forge";
import { GithubForge, type GithubForgeOptions } from "../../src/forges/github";
import { GitlabForge } from "../../src/forges/gitlab";
import { LocalForge } from "../../src/forges/local";
import { GithubApiStandIn, type CheckRun } from "../stand-ins/github-api";
import { GitlabApiStandIn, type GitlabCommitStatus } from "../stand-ins/gitlab-api";
import type { ForgeHarness, ShownReport } from "./forge-contract";

export const GITHUB_REPO = "acme/api";
export const GITHUB_TOKEN = "ghp_contractToken0123456789";

export function checkRunState(run: Pick<CheckRun, "status" | "conclusion">): ReportState {
  if (run.status === "completed") return run.conclusion as ReportState;
  return run.status === "in_progress" ? "running" : "queued";
}

export async function createGithubHarness(options: Partial<GithubForgeOptions> = {}): Promise<ForgeHarness & { api: GithubApiStandIn }> {
  const api = await GithubApiStandIn.start();
  const repository = api.addRepository(GITHUB_REPO);
  api.addToken(GITHUB_TOKEN, { contents: "read", checks: "write", statuses: "write", pull_requests: "read" });
  const forge = new GithubForge({ baseUrl: api.baseUrl, credentials: { token: GITHUB_TOKEN }, ...options });
  let pulls = 0;
  return {
    api,
    forge,
    repo: GITHUB_REPO,
    showsLogTail: true,
    async commit(files, parent) {
      return repository.commit(files, parent);
    },
    async setBranch(name, sha) {
      api.setBranch(GITHUB_REPO, name, sha);
    },
    async setTag(name, sha, message) {
      api.setTag(GITHUB_REPO, name, sha, message);
    },
    async openReview(base, head) {
      const number = ++pulls;
      api.addPullRequest(GITHUB_REPO, { number, baseSha: base, headSha: head });
      return number;
    },
    async shown(sha): Promise<ShownReport[]> {
      return api.checkRuns(GITHUB_REPO, sha).map((run) => ({
        name: run.name,
        state: checkRunState(run),
        text: [run.output.title, run.output.summary, run.output.text].filter(Boolean).join("\n"),
      }));
    },
    teardown: () => api.close(),
  };
}

export const GITLAB_PROJECT = "acme/platform/api";
export const GITLAB_TOKEN = "glpat-contractToken0123";

export function gitlabState(status: GitlabCommitStatus["status"]): ReportState {
  const states: Record<GitlabCommitStatus["status"], ReportState> = {
    created: "queued",
    pending: "queued",
    running: "running",
    success: "success",
    failed: "failure",
    canceled: "cancelled",
    skipped: "skipped",
  };
  return states[status];
}

export async function createGitlabHarness(): Promise<ForgeHarness & { api: GitlabApiStandIn }> {
  const api = await GitlabApiStandIn.start();
  const project = api.addProject(GITLAB_PROJECT);
  api.addToken(GITLAB_TOKEN, ["api"]);
  const forge = new GitlabForge({ host: api.host, token: GITLAB_TOKEN });
  let mergeRequests = 0;
  return {
    api,
    forge,
    repo: GITLAB_PROJECT,
    showsLogTail: false,
    async commit(files, parent) {
      return project.commit(files, parent);
    },
    async setBranch(name, sha) {
      api.setBranch(GITLAB_PROJECT, name, sha);
    },
    async setTag(name, sha, message) {
      api.setTag(GITLAB_PROJECT, name, sha, message);
    },
    async openReview(base, head) {
      const iid = ++mergeRequests;
      api.addMergeRequest(GITLAB_PROJECT, { iid, baseSha: base, headSha: head });
      return iid;
    },
    async shown(sha): Promise<ShownReport[]> {
      // GitLab shows the latest status of each name (older ones count as retried).
      const latest = new Map<string, GitlabCommitStatus>();
      for (const status of api.statuses(GITLAB_PROJECT, sha)) latest.set(status.name, status);
      return [...latest.values()].map((status) => ({ name: status.name, state: gitlabState(status.status), text: status.description ?? "" }));
    },
    teardown: () => api.close(),
  };
}

/** A temporary repository; commits are made with plumbing so each has exactly the given files. */
export function createGitRepository(): {
  dir: string;
  commit(files: Record<string, string>, parent?: string): string;
  setBranch(name: string, sha: string): void;
  setTag(name: string, sha: string, message?: string): void;
  remove(): void;
} {
  const dir = mkdtempSync(path.join(tmpdir(), "gust-forge-local-"));
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "Gust Test",
    GIT_AUTHOR_EMAIL: "test@gust.invalid",
    GIT_COMMITTER_NAME: "Gust Test",
    GIT_COMMITTER_EMAIL: "test@gust.invalid",
    GIT_CONFIG_NOSYSTEM: "1",
    HOME: dir,
  };
  const git = (args: string[], input?: string, extraEnv: Record<string, string> = {}) =>
    execFileSync("git", ["-C", dir, ...args], { env: { ...env, ...extraEnv }, input, encoding: "utf8" }).trim();
  git(["init", "-q", "-b", "main"]);
  let count = 0;
  return {
    dir,
    commit(files, parent) {
      const index = path.join(dir, ".git", `index-${++count}`);
      for (const [file, content] of Object.entries(files)) {
        const blob = git(["hash-object", "-w", "--stdin"], content);
        git(["update-index", "--add", "--cacheinfo", `100644,${blob},${file}`], undefined, { GIT_INDEX_FILE: index });
      }
      const tree = git(["write-tree"], undefined, { GIT_INDEX_FILE: index });
      const sha = git(["commit-tree", tree, ...(parent ? ["-p", parent] : []), "-m", `commit ${count}`]);
      git(["update-ref", "refs/heads/main", sha]);
      return sha;
    },
    setBranch: (name, sha) => void git(["update-ref", `refs/heads/${name}`, sha]),
    setTag: (name, sha, message) => void (message === undefined ? git(["update-ref", `refs/tags/${name}`, sha]) : git(["tag", "-f", "-a", "-m", message, name, sha])),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function createLocalHarness(): Promise<ForgeHarness & { forge: LocalForge }> {
  const repository = createGitRepository();
  const forge = new LocalForge();
  return {
    forge,
    repo: repository.dir,
    showsLogTail: true,
    async commit(files, parent) {
      return repository.commit(files, parent);
    },
    async setBranch(name, sha) {
      repository.setBranch(name, sha);
    },
    async setTag(name, sha, message) {
      repository.setTag(name, sha, message);
    },
    async openReview() {
      return 1;
    },
    async shown(sha): Promise<ShownReport[]> {
      return forge.reportsFor(repository.dir, sha).map((report) => ({
        name: report.name,
        state: report.update.state,
        text: [report.title, report.text].filter(Boolean).join("\n"),
      }));
    },
    async teardown() {
      repository.remove();
    },
  };
}

/** An RSA key pair as GitHub issues App keys: PKCS#1 PEM. */
export function appKeyPair(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return { privateKey, publicKey };
}
