// A loopback GitLab REST API (/api/v4) for the endpoints Gust uses: raw files, repository tree,
// compare, merge request diffs, commit statuses, and the project, branches, tags and commits by
// ref (see ./gitlab-refs.ts). It checks PRIVATE-TOKEN / Bearer tokens and
// their scopes, validates bodies the way GitLab does (400 with {"error": ...}), moves commit
// statuses through GitLab's state machine (a refused transition is a 400), paginates with Link
// and X-* headers, and records requests.
import { FakeRefs } from "./fake-refs";
import { FakeRepository } from "./fake-repository";
import { branch, commit, project as projectBody, tag } from "./gitlab-refs";
import { HttpStandIn, type RecordedRequest, type Reply, type ScriptedFailure } from "./http-stand-in";

export type GitlabScope = "api" | "read_api";

export interface GitlabCommitStatus {
  id: number;
  sha: string;
  ref: string | null;
  status: "created" | "pending" | "running" | "success" | "failed" | "canceled" | "skipped";
  name: string;
  target_url: string | null;
  description: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  allow_failure: boolean;
  coverage: null;
  pipeline_id: number;
  author: { id: number; username: string; name: string; state: string; avatar_url: string; web_url: string };
}

interface MergeRequest {
  iid: number;
  baseSha: string;
  headSha: string;
}

const STATES = ["pending", "running", "success", "failed", "canceled", "skipped"];

// GitLab's CommitStatus state machine: event → the states it may leave from.
const TRANSITIONS: Record<string, { event: string; to: GitlabCommitStatus["status"]; from: Array<GitlabCommitStatus["status"]> }> = {
  pending: { event: "enqueue", to: "pending", from: ["created", "skipped"] },
  running: { event: "run", to: "running", from: ["pending"] },
  success: { event: "succeed", to: "success", from: ["created", "pending", "running"] },
  failed: { event: "drop", to: "failed", from: ["created", "pending", "running"] },
  canceled: { event: "cancel", to: "canceled", from: ["created", "pending", "running"] },
  skipped: { event: "skip", to: "skipped", from: ["created", "pending"] },
};

export class GitlabApiStandIn {
  private readonly projects = new Map<string, FakeRepository>();
  private readonly refs = new Map<FakeRepository, FakeRefs>();
  private readonly tokens = new Map<string, GitlabScope[]>();
  private readonly mergeRequests = new Map<string, MergeRequest>();
  private readonly statusList: Array<GitlabCommitStatus & { project: number }> = [];
  private nextId = 1;

  private constructor(private readonly http: HttpStandIn) {}

  static async start(): Promise<GitlabApiStandIn> {
    let standIn: GitlabApiStandIn | undefined;
    const http = await HttpStandIn.start((request) => standIn!.handle(request));
    standIn = new GitlabApiStandIn(http);
    return standIn;
  }

  /** What to give gitbeaker as host. */
  get host(): string {
    return this.http.origin;
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

  addProject(pathWithNamespace: string, defaultBranch = "main"): FakeRepository {
    const project = new FakeRepository(pathWithNamespace, this.nextId++, defaultBranch);
    this.projects.set(pathWithNamespace.toLowerCase(), project);
    this.refs.set(project, new FakeRefs(project));
    return project;
  }

  /** Creates or moves a branch. */
  setBranch(pathWithNamespace: string, name: string, sha: string): void {
    this.refs.get(this.project(pathWithNamespace)!)!.setBranch(name, sha);
  }

  /** A lightweight tag, or an annotated one when `message` is given. */
  setTag(pathWithNamespace: string, name: string, sha: string, message?: string): void {
    this.refs.get(this.project(pathWithNamespace)!)!.setTag(name, sha, message);
  }

  addToken(token: string, scopes: GitlabScope[] = ["api"]): void {
    this.tokens.set(token, scopes);
  }

  addMergeRequest(pathWithNamespace: string, mr: MergeRequest): void {
    this.mergeRequests.set(`${pathWithNamespace.toLowerCase()}!${mr.iid}`, mr);
  }

  /** Every status posted for the project (at `sha`), oldest first; GitLab shows the latest per name. */
  statuses(pathWithNamespace: string, sha?: string): GitlabCommitStatus[] {
    const project = this.projects.get(pathWithNamespace.toLowerCase());
    return this.statusList.filter((status) => status.project === project?.id && (sha === undefined || status.sha === sha)).map(publicStatus);
  }

  private handle(request: RecordedRequest): Reply {
    const match = /^\/api\/v4\/projects\/([^/]+)(?:\/(.+))?$/.exec(request.rawPath);
    if (!match) return { status: 404, body: { error: "404 Not Found" } };
    const token = tokenOf(request);
    const scopes = token === undefined ? undefined : this.tokens.get(token);
    if (!scopes) return { status: 401, body: { message: "401 Unauthorized" } };
    const project = this.project(decodeURIComponent(match[1]!));
    if (!project) return { status: 404, body: { message: "404 Project Not Found" } };
    const rest = match[2] ?? "";
    const writes = request.method !== "GET";
    if (writes && !scopes.includes("api")) {
      return {
        status: 403,
        body: { error: "insufficient_scope", error_description: "The request requires higher privileges than provided by the access token.", scope: "api" },
      };
    }
    let route: RegExpExecArray | null;
    const refs = this.refs.get(project)!;
    if (request.method === "GET" && rest === "") return projectBody(project);
    if (request.method === "GET" && (route = /^repository\/branches\/([^/]+)$/.exec(rest))) return branch(project, refs, decodeURIComponent(route[1]!));
    if (request.method === "GET" && (route = /^repository\/tags\/([^/]+)$/.exec(rest))) return tag(project, refs, decodeURIComponent(route[1]!));
    if (request.method === "GET" && (route = /^repository\/commits\/([^/]+)$/.exec(rest))) return commit(project, refs, decodeURIComponent(route[1]!));
    if (request.method === "GET" && (route = /^repository\/files\/([^/]+)\/raw$/.exec(rest))) return this.raw(project, decodeURIComponent(route[1]!), request);
    if (request.method === "GET" && rest === "repository/tree") return this.tree(project, request);
    if (request.method === "GET" && rest === "repository/compare") return this.compare(project, request);
    if (request.method === "GET" && (route = /^merge_requests\/(\d+)\/diffs$/.exec(rest))) return this.diffs(project, Number(route[1]), request);
    if (request.method === "POST" && (route = /^statuses\/([^/]+)$/.exec(rest))) return this.postStatus(project, decodeURIComponent(route[1]!), request);
    return { status: 404, body: { error: "404 Not Found" } };
  }

  /** `:id` is the numeric id or the URL-encoded path. */
  private project(id: string): FakeRepository | undefined {
    if (/^\d+$/.test(id)) return [...this.projects.values()].find((project) => project.id === Number(id));
    return this.projects.get(id.toLowerCase());
  }

  private raw(project: FakeRepository, path: string, request: RecordedRequest): Reply {
    const ref = request.query.get("ref");
    if (!ref) return { status: 400, body: { error: "ref is missing" } };
    if (!project.hasCommit(ref)) return { status: 404, body: { message: "404 Commit Not Found" } };
    const content = project.fileAt(ref, path);
    if (content === undefined) return { status: 404, body: { message: "404 File Not Found" } };
    return { status: 200, headers: { "content-type": "text/plain; charset=utf-8", "x-gitlab-file-path": path }, body: content };
  }

  private tree(project: FakeRepository, request: RecordedRequest): Reply {
    const ref = request.query.get("ref") ?? project.defaultBranch;
    const path = (request.query.get("path") ?? "").replace(/\/+$/, "");
    const entries = project.hasCommit(ref) ? project.list(ref, path) : undefined;
    if (!entries) return { status: 404, body: { message: "404 Tree Not Found" } };
    const rows = entries.map((entry) => ({ id: entry.sha, name: entry.name, type: entry.type, path: entry.path, mode: entry.type === "blob" ? "100644" : "040000" }));
    return this.paginate(rows, request, `projects/${project.id}/repository/tree`);
  }

  private compare(project: FakeRepository, request: RecordedRequest): Reply {
    const from = request.query.get("from");
    const to = request.query.get("to");
    if (!from || !to) return { status: 400, body: { error: from ? "to is missing" : "from is missing" } };
    const changes = project.diff(from, to);
    if (!changes) return { status: 404, body: { message: "404 Ref Not Found" } };
    return {
      status: 200,
      body: {
        commit: { id: to, short_id: to.slice(0, 8), title: "change", created_at: new Date().toISOString() },
        commits: [{ id: to, short_id: to.slice(0, 8), title: "change" }],
        diffs: changes.map((change) => diffEntry(change.path, change.status)),
        compare_timeout: false,
        compare_same_ref: from === to,
        web_url: `https://gitlab.example.com/${project.fullName}/-/compare/${from}...${to}`,
      },
    };
  }

  private diffs(project: FakeRepository, iid: number, request: RecordedRequest): Reply {
    const mr = this.mergeRequests.get(`${project.fullName.toLowerCase()}!${iid}`);
    if (!mr) return { status: 404, body: { message: "404 Merge Request Not Found" } };
    const rows = project.diff(mr.baseSha, mr.headSha)!.map((change) => diffEntry(change.path, change.status));
    return this.paginate(rows, request, `projects/${project.id}/merge_requests/${iid}/diffs`);
  }

  private postStatus(project: FakeRepository, sha: string, request: RecordedRequest): Reply {
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (body.state === undefined) return { status: 400, body: { error: "state is missing" } };
    if (typeof body.state !== "string" || !STATES.includes(body.state)) return { status: 400, body: { error: "state does not have a valid value" } };
    for (const field of ["ref", "name", "context", "target_url", "description"]) {
      if (body[field] !== undefined && typeof body[field] !== "string") return { status: 400, body: { error: `${field} is invalid` } };
    }
    const name = (body.name ?? body.context ?? "default") as string;
    if (name.length > 255) return { status: 400, body: { message: { name: ["is too long (maximum is 255 characters)"] } } };
    const targetUrl = body.target_url as string | undefined;
    if (targetUrl !== undefined && !/^https?:\/\/\S+$/.test(targetUrl)) return { status: 400, body: { message: { target_url: ["must be a valid URL"] } } };
    if (!project.hasCommit(sha)) return { status: 404, body: { message: "404 Commit Not Found" } };
    const ref = (body.ref as string | undefined) ?? null;
    // Like GitLab: the pending or running status of this name and ref is updated; otherwise a new one starts at created.
    let status = this.statusList.find(
      (item) => item.project === project.id && item.sha === sha && item.name === name && item.ref === ref && (item.status === "pending" || item.status === "running"),
    );
    if (!status) {
      status = {
        project: project.id,
        id: this.nextId++,
        sha,
        ref,
        status: "created",
        name,
        target_url: null,
        description: null,
        created_at: new Date().toISOString(),
        started_at: null,
        finished_at: null,
        allow_failure: false,
        coverage: null,
        pipeline_id: 100 + project.id,
        author: { id: 1, username: "gust-bot", name: "Gust", state: "active", avatar_url: "", web_url: "https://gitlab.example.com/gust-bot" },
      };
      this.statusList.push(status);
    }
    const transition = TRANSITIONS[body.state]!;
    // `running` first enqueues (silently, when it cannot), then runs.
    if (body.state === "running" && (status.status === "created" || status.status === "skipped")) status.status = "pending";
    if (!transition.from.includes(status.status)) {
      return { status: 400, body: { message: `Cannot transition status via :${transition.event} from :${status.status} (Reason(s): Status cannot transition via "${transition.event}")` } };
    }
    status.status = transition.to;
    if (targetUrl !== undefined) status.target_url = targetUrl;
    if (typeof body.description === "string") status.description = body.description;
    const now = new Date().toISOString();
    if (transition.to === "running") status.started_at = now;
    if (["success", "failed", "canceled", "skipped"].includes(transition.to)) status.finished_at = now;
    return { status: 201, body: publicStatus(status) };
  }

  private paginate(rows: unknown[], request: RecordedRequest, path: string): Reply {
    const perPage = Math.min(100, Number(request.query.get("per_page") ?? 20));
    const page = Number(request.query.get("page") ?? 1);
    const totalPages = Math.max(1, Math.ceil(rows.length / perPage));
    const headers: Record<string, string> = {
      "x-page": String(page),
      "x-per-page": String(perPage),
      "x-total": String(rows.length),
      "x-total-pages": String(totalPages),
      "x-next-page": page < totalPages ? String(page + 1) : "",
      "x-prev-page": page > 1 ? String(page - 1) : "",
    };
    if (page < totalPages) {
      const next = new URLSearchParams(request.query);
      next.set("page", String(page + 1));
      next.set("per_page", String(perPage));
      headers.link = `<${this.http.origin}/api/v4/${path}?${next}>; rel="next"`;
    }
    return { status: 200, headers, body: rows.slice((page - 1) * perPage, page * perPage) };
  }
}

function tokenOf(request: RecordedRequest): string | undefined {
  const privateToken = request.headers["private-token"];
  if (typeof privateToken === "string") return privateToken;
  const authorization = request.headers.authorization;
  return typeof authorization === "string" && /^bearer /i.test(authorization) ? authorization.slice(7) : undefined;
}

function publicStatus(status: GitlabCommitStatus & { project: number }): GitlabCommitStatus {
  const { project: _project, ...shown } = status;
  return shown;
}

function diffEntry(path: string, status: string): Record<string, unknown> {
  return {
    old_path: path,
    new_path: path,
    a_mode: status === "added" ? "0" : "100644",
    b_mode: status === "removed" ? "0" : "100644",
    new_file: status === "added",
    renamed_file: false,
    deleted_file: status === "removed",
    diff: "@@ -1 +1 @@\n",
  };
}
