// A loopback GitHub REST API (served under /api/v3, as GitHub Enterprise is) for the endpoints Gust
// uses: contents, git trees and blobs, compare, pull request files, check runs, commit statuses,
// the repository, branches, git refs, tag objects and commits by ref (see ./github-refs.ts),
// and the GitHub App installation flow. It checks paths, methods, credentials and permissions,
// validates bodies the way GitHub does (422), answers with GitHub's shapes, and records requests.
import { randomBytes } from "node:crypto";
import { FakeRefs } from "./fake-refs";
import { FakeRepository } from "./fake-repository";
import { blob, compare, contents, fileEntry, gitCommit, notFound, tree } from "./github-content";
import { allows, GithubCredentials, type Access, type AppConfig, type Caller, type Permission, type Permissions } from "./github-auth";
import { applyCheckRun, checkRunProblem, commitStatusProblem, DOCS, invalid, type CheckRun, type CommitStatus } from "./github-bodies";
import { branch, commitByRef, gitRef, repository, tagObject } from "./github-refs";
import { bearer, HttpStandIn, type RecordedRequest, type Reply, type ScriptedFailure } from "./http-stand-in";

export type { AppConfig, Permissions } from "./github-auth";
export type { CheckRun, CommitStatus } from "./github-bodies";

const PREFIX = "/api/v3";

interface Route {
  method: string;
  pattern: RegExp;
  /** The permission a token needs; "jwt" for App endpoints. */
  needs: [Permission, Access] | "jwt";
  handle(match: string[], request: RecordedRequest, caller: Caller): Reply;
}

interface PullRequest {
  number: number;
  baseSha: string;
  headSha: string;
}

export class GithubApiStandIn {
  readonly credentials = new GithubCredentials();
  private readonly repos = new Map<string, FakeRepository>();
  private readonly refs = new Map<string, FakeRefs>();
  private readonly pulls = new Map<string, PullRequest>();
  private readonly runs: Array<CheckRun & { repo: string }> = [];
  private readonly statusList: Array<CommitStatus & { repo: string }> = [];
  private nextId = 1_000;
  private readonly routes: Route[];
  /** The stand-in's clock (tests may move it to expire tokens). */
  now: () => number = Date.now;

  private constructor(private readonly http: HttpStandIn) {
    this.routes = this.buildRoutes();
  }

  static async start(): Promise<GithubApiStandIn> {
    let standIn: GithubApiStandIn | undefined;
    const http = await HttpStandIn.start((request) => standIn!.handle(request));
    standIn = new GithubApiStandIn(http);
    return standIn;
  }

  /** The REST root to give octokit as baseUrl. */
  get baseUrl(): string {
    return `${this.http.origin}${PREFIX}`;
  }

  get requests(): RecordedRequest[] {
    return this.http.requests;
  }

  failNext(count: number, failure: ScriptedFailure): void {
    this.http.failNext(count, failure);
  }

  /** Recorded requests whose method and raw path match. */
  find(method: string, pathPattern: RegExp): RecordedRequest[] {
    return this.http.find(method, pathPattern);
  }

  close(): Promise<void> {
    return this.http.close();
  }

  addRepository(fullName: string, defaultBranch = "main"): FakeRepository {
    const repo = new FakeRepository(fullName, this.nextId++, defaultBranch);
    this.repos.set(fullName.toLowerCase(), repo);
    this.refs.set(fullName.toLowerCase(), new FakeRefs(repo));
    return repo;
  }

  /** Creates or moves a branch. */
  setBranch(fullName: string, name: string, sha: string): void {
    this.refs.get(fullName.toLowerCase())!.setBranch(name, sha);
  }

  /** A lightweight tag, or an annotated one (a tag object) when `message` is given. */
  setTag(fullName: string, name: string, sha: string, message?: string): void {
    this.refs.get(fullName.toLowerCase())!.setTag(name, sha, message);
  }

  /** A token (personal access token) with these fine-grained permissions. */
  addToken(token: string, permissions: Permissions): void {
    this.credentials.addToken(token, permissions);
  }

  configureApp(config: AppConfig): void {
    this.credentials.configureApp(config);
  }

  addPullRequest(fullName: string, pull: PullRequest): void {
    this.pulls.set(`${fullName.toLowerCase()}#${pull.number}`, pull);
  }

  checkRuns(fullName: string, sha?: string): CheckRun[] {
    return this.runs.filter((run) => run.repo === fullName.toLowerCase() && (sha === undefined || run.head_sha === sha));
  }

  statuses(fullName: string, sha?: string): CommitStatus[] {
    return this.statusList.filter((status) => status.repo === fullName.toLowerCase() && (sha === undefined || status.sha === sha));
  }

  private handle(request: RecordedRequest): Reply {
    const reply = this.route(request);
    const remaining = 4999 - (this.requests.length % 5000);
    return {
      ...reply,
      headers: {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": String(remaining),
        "x-ratelimit-reset": String(Math.floor(this.now() / 1000) + 3600),
        "x-github-request-id": randomBytes(8).toString("hex").toUpperCase(),
        ...reply.headers,
      },
    };
  }

  private route(request: RecordedRequest): Reply {
    if (!request.rawPath.startsWith(`${PREFIX}/`)) return notFound();
    const path = request.rawPath.slice(PREFIX.length);
    for (const route of this.routes) {
      const match = route.pattern.exec(path);
      if (!match || route.method !== request.method) continue;
      const auth = this.credentials.authenticate(bearer(request.headers), route.needs === "jwt", this.now());
      if (!auth.ok) return { status: auth.status, body: { message: auth.message, documentation_url: DOCS, status: String(auth.status) } };
      const caller = auth.caller;
      if (route.needs !== "jwt") {
        const repo = this.repoFor(match, caller);
        if (!repo) return notFound();
        const [permission, access] = route.needs;
        // Every token and installation may read metadata on GitHub; it cannot be withheld.
        if (permission !== "metadata" && !allows(caller, permission, access)) {
          const who = caller.kind === "installation" ? "integration" : "personal access token";
          return {
            status: 403,
            headers: { "x-accepted-github-permissions": `${permission}=${access}` },
            body: { message: `Resource not accessible by ${who}`, documentation_url: DOCS, status: "403" },
          };
        }
      }
      return route.handle(match.slice(1).map(decodeURIComponent), request, caller);
    }
    return notFound();
  }

  /** The repository of `/repos/{owner}/{repo}/…`, if the caller can see it (others see 404, as on GitHub). */
  private repoFor(match: RegExpExecArray, caller: Caller): FakeRepository | undefined {
    const fullName = `${decodeURIComponent(match[1]!)}/${decodeURIComponent(match[2]!)}`.toLowerCase();
    const repo = this.repos.get(fullName);
    if (!repo) return undefined;
    if (caller.kind === "installation" && !caller.repos.has(fullName)) return undefined;
    return repo;
  }

  private repo(owner: string, name: string): FakeRepository {
    return this.repos.get(`${owner}/${name}`.toLowerCase())!;
  }

  private refsOf(owner: string, name: string): FakeRefs {
    return this.refs.get(`${owner}/${name}`.toLowerCase())!;
  }

  private buildRoutes(): Route[] {
    const repoPath = (rest: string) => new RegExp(`^/repos/([^/]+)/([^/]+)/${rest}$`);
    return [
      { method: "GET", pattern: repoPath("contents/(.*)"), needs: ["contents", "read"], handle: ([o, r, p], req) => contents(this.baseUrl, this.repo(o!, r!), p!, req) },
      { method: "GET", pattern: repoPath("git/trees/([^/]+)"), needs: ["contents", "read"], handle: ([o, r, sha]) => tree(this.baseUrl, this.repo(o!, r!), sha!) },
      { method: "GET", pattern: repoPath("git/commits/([^/]+)"), needs: ["contents", "read"], handle: ([o, r, sha]) => gitCommit(this.baseUrl, this.repo(o!, r!), sha!) },
      { method: "GET", pattern: repoPath("git/blobs/([^/]+)"), needs: ["contents", "read"], handle: ([o, r, sha]) => blob(this.baseUrl, this.repo(o!, r!), sha!) },
      { method: "GET", pattern: /^\/repos\/([^/]+)\/([^/]+)$/, needs: ["metadata", "read"], handle: ([o, r]) => repository(this.baseUrl, this.repo(o!, r!)) },
      { method: "GET", pattern: repoPath("branches/(.+)"), needs: ["contents", "read"], handle: ([o, r, b]) => branch(this.baseUrl, this.repo(o!, r!), this.refsOf(o!, r!), b!) },
      { method: "GET", pattern: repoPath("git/ref/(.+)"), needs: ["contents", "read"], handle: ([o, r, ref]) => gitRef(this.baseUrl, this.repo(o!, r!), this.refsOf(o!, r!), ref!) },
      { method: "GET", pattern: repoPath("git/tags/([^/]+)"), needs: ["contents", "read"], handle: ([o, r, sha]) => tagObject(this.baseUrl, this.repo(o!, r!), this.refsOf(o!, r!), sha!) },
      { method: "GET", pattern: repoPath("commits/([^/]+)"), needs: ["contents", "read"], handle: ([o, r, ref]) => commitByRef(this.baseUrl, this.repo(o!, r!), this.refsOf(o!, r!), ref!) },
      { method: "GET", pattern: repoPath("compare/(.+)"), needs: ["contents", "read"], handle: ([o, r, basehead]) => compare(this.baseUrl, this.repo(o!, r!), basehead!) },
      { method: "GET", pattern: repoPath("pulls/(\\d+)/files"), needs: ["pull_requests", "read"], handle: ([o, r, n], req) => this.pullFiles(this.repo(o!, r!), Number(n), req) },
      { method: "POST", pattern: repoPath("check-runs"), needs: ["checks", "write"], handle: ([o, r], req) => this.createCheckRun(this.repo(o!, r!), req) },
      { method: "PATCH", pattern: repoPath("check-runs/(\\d+)"), needs: ["checks", "write"], handle: ([o, r, id], req) => this.updateCheckRun(this.repo(o!, r!), Number(id), req) },
      { method: "GET", pattern: repoPath("check-runs/(\\d+)"), needs: ["checks", "read"], handle: ([o, r, id]) => this.getCheckRun(this.repo(o!, r!), Number(id)) },
      { method: "POST", pattern: repoPath("statuses/([^/]+)"), needs: ["statuses", "write"], handle: ([o, r, sha], req) => this.createStatus(this.repo(o!, r!), sha!, req) },
      { method: "GET", pattern: repoPath("installation"), needs: "jwt", handle: ([o, r]) => this.installation(`${o}/${r}`) },
      { method: "POST", pattern: /^\/app\/installations\/(\d+)\/access_tokens$/, needs: "jwt", handle: ([id]) => this.accessToken(Number(id)) },
    ];
  }

  private pullFiles(repo: FakeRepository, number: number, request: RecordedRequest): Reply {
    const pull = this.pulls.get(`${repo.fullName.toLowerCase()}#${number}`);
    if (!pull) return notFound(`${DOCS}/pulls/pulls#list-pull-requests-files`);
    const files = repo.diff(pull.baseSha, pull.headSha)!.map((change) => fileEntry(repo, change.path, change.status));
    const perPage = Math.min(100, Number(request.query.get("per_page") ?? 30));
    const page = Number(request.query.get("page") ?? 1);
    const slice = files.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    if (page * perPage < files.length) {
      headers.link = `<${this.baseUrl}/repos/${repo.fullName}/pulls/${number}/files?per_page=${perPage}&page=${page + 1}>; rel="next"`;
    }
    return { status: 200, headers, body: slice };
  }

  private createCheckRun(repo: FakeRepository, request: RecordedRequest): Reply {
    const problem = checkRunProblem(request.body, true);
    if (problem) return problem;
    const body = request.body as Record<string, unknown>;
    if (!repo.hasCommit(body.head_sha as string)) return invalid(`No commit found for SHA: ${body.head_sha as string}`);
    const id = this.nextId++;
    const now = new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
    const run: CheckRun & { repo: string } = {
      repo: repo.fullName.toLowerCase(),
      id,
      name: "",
      node_id: `CR_${id}`,
      head_sha: body.head_sha as string,
      external_id: "",
      url: `${this.baseUrl}/repos/${repo.fullName}/check-runs/${id}`,
      html_url: `https://github.com/${repo.fullName}/runs/${id}`,
      details_url: null,
      status: "queued",
      conclusion: null,
      // GitHub stamps started_at at creation unless told otherwise.
      started_at: now,
      completed_at: null,
      output: { title: null, summary: null, text: null, annotations_count: 0, annotations_url: `${this.baseUrl}/repos/${repo.fullName}/check-runs/${id}/annotations` },
      check_suite: { id: 5000 + id },
      app: { id: 1, slug: "gust", name: "Gust" },
      pull_requests: [],
    };
    applyCheckRun(run, body, now);
    this.runs.push(run);
    return { status: 201, body: publicRun(run) };
  }

  private updateCheckRun(repo: FakeRepository, id: number, request: RecordedRequest): Reply {
    const run = this.runs.find((item) => item.id === id && item.repo === repo.fullName.toLowerCase());
    if (!run) return notFound(`${DOCS}/checks/runs#update-a-check-run`);
    const problem = checkRunProblem(request.body, false);
    if (problem) return problem;
    applyCheckRun(run, request.body as Record<string, unknown>, new Date(this.now()).toISOString());
    return { status: 200, body: publicRun(run) };
  }

  private getCheckRun(repo: FakeRepository, id: number): Reply {
    const run = this.runs.find((item) => item.id === id && item.repo === repo.fullName.toLowerCase());
    return run ? { status: 200, body: publicRun(run) } : notFound();
  }

  private createStatus(repo: FakeRepository, sha: string, request: RecordedRequest): Reply {
    const problem = commitStatusProblem(request.body);
    if (problem) return problem;
    if (!repo.hasCommit(sha)) return invalid(`No commit found for SHA: ${sha}`);
    const body = request.body as Record<string, string | null | undefined>;
    const id = this.nextId++;
    const now = new Date(this.now()).toISOString();
    const status: CommitStatus & { repo: string } = {
      repo: repo.fullName.toLowerCase(),
      url: `${this.baseUrl}/repos/${repo.fullName}/statuses/${sha}`,
      avatar_url: null,
      id,
      node_id: `SC_${id}`,
      state: body.state as CommitStatus["state"],
      description: body.description ?? null,
      target_url: body.target_url ?? null,
      context: body.context ?? "default",
      created_at: now,
      updated_at: now,
      sha,
    };
    this.statusList.push(status);
    const { repo: _repo, sha: _sha, ...shown } = status;
    return { status: 201, body: shown };
  }

  private installation(fullName: string): Reply {
    const id = this.credentials.installationFor(fullName);
    if (id === undefined || !this.repos.has(fullName.toLowerCase())) return notFound(`${DOCS}/apps/apps#get-a-repository-installation-for-the-authenticated-app`);
    return {
      status: 200,
      body: { id, account: { login: fullName.split("/")[0] }, repository_selection: "selected", access_tokens_url: `${this.baseUrl}/app/installations/${id}/access_tokens`, app_id: 1, target_type: "Organization" },
    };
  }

  private accessToken(installationId: number): Reply {
    if (!Object.values(this.installationIds()).includes(installationId)) return notFound(`${DOCS}/apps/apps#create-an-installation-access-token-for-an-app`);
    const minted = this.credentials.mint(installationId, this.now());
    return {
      status: 201,
      body: { token: minted.token, expires_at: new Date(minted.expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"), permissions: minted.permissions, repository_selection: "selected" },
    };
  }

  private installationIds(): Record<string, number> {
    const ids: Record<string, number> = {};
    for (const repo of this.repos.values()) {
      const id = this.credentials.installationFor(repo.fullName);
      if (id !== undefined) ids[repo.fullName] = id;
    }
    return ids;
  }
}

function publicRun(run: CheckRun & { repo: string }): CheckRun {
  const { repo: _repo, ...shown } = run;
  return shown;
}

