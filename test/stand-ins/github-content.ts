// The repository-content endpoints of the GitHub stand-in: contents, git trees, commits and blobs,
// compare. Shapes as the REST API answers them (base64 wrapped at 60 columns, 1 MB content limit).
import { randomBytes } from "node:crypto";
import type { DirEntry, FakeRepository } from "./fake-repository";
import { DOCS } from "./github-bodies";
import type { RecordedRequest, Reply } from "./http-stand-in";

export function contents(baseUrl: string, repo: FakeRepository, path: string, request: RecordedRequest): Reply {
  const ref = request.query.get("ref") ?? repo.defaultBranch;
  if (!repo.hasCommit(ref)) return { status: 404, body: { message: `No commit found for the ref ${ref}`, documentation_url: `${DOCS}/repos/contents#get-repository-content`, status: "404" } };
  const content = repo.fileAt(ref, path);
  if (content !== undefined) {
    const entry = repo.list(ref, parentOf(path))!.find((item) => item.path === path)!;
    const large = Buffer.byteLength(content) > 1024 * 1024;
    return {
      status: 200,
      body: {
        ...contentEntry(baseUrl, repo, entry, ref),
        // GitHub wraps base64 at 60 characters; files over 1 MB come without content.
        content: large ? "" : wrapBase64(content),
        encoding: large ? "none" : "base64",
      },
    };
  }
  const listing = repo.list(ref, path);
  if (listing) return { status: 200, body: listing.map((entry) => contentEntry(baseUrl, repo, entry, ref)) };
  return notFound(`${DOCS}/repos/contents#get-repository-content`);
}

function contentEntry(baseUrl: string, repo: FakeRepository, entry: DirEntry, ref: string): Record<string, unknown> {
  const api = `${baseUrl}/repos/${repo.fullName}`;
  return {
    type: entry.type === "blob" ? "file" : "dir",
    size: entry.size ?? 0,
    name: entry.name,
    path: entry.path,
    sha: entry.sha,
    url: `${api}/contents/${entry.path}?ref=${ref}`,
    git_url: `${api}/git/${entry.type === "blob" ? "blobs" : "trees"}/${entry.sha}`,
    html_url: `https://github.com/${repo.fullName}/${entry.type === "blob" ? "blob" : "tree"}/${ref}/${entry.path}`,
    download_url: entry.type === "blob" ? `https://raw.githubusercontent.com/${repo.fullName}/${ref}/${entry.path}` : null,
    _links: { self: `${api}/contents/${entry.path}?ref=${ref}`, git: `${api}/git/trees/${entry.sha}`, html: `https://github.com/${repo.fullName}` },
  };
}

export function tree(baseUrl: string, repo: FakeRepository, sha: string): Reply {
  const where = repo.resolveTree(sha);
  const entries = where && repo.list(where.commit, where.dir);
  if (!entries) return notFound(`${DOCS}/git/trees#get-a-tree`);
  const api = `${baseUrl}/repos/${repo.fullName}/git`;
  return {
    status: 200,
    body: {
      sha: where.dir === "" ? repo.treeSha(where.commit, "") : sha,
      url: `${api}/trees/${sha}`,
      tree: entries.map((entry) => ({
        path: entry.name,
        mode: entry.type === "blob" ? "100644" : "040000",
        type: entry.type,
        sha: entry.sha,
        ...(entry.size !== undefined ? { size: entry.size } : {}),
        url: `${api}/${entry.type === "blob" ? "blobs" : "trees"}/${entry.sha}`,
      })),
      truncated: false,
    },
  };
}

export function gitCommit(baseUrl: string, repo: FakeRepository, sha: string): Reply {
  if (!repo.hasCommit(sha)) return notFound(`${DOCS}/git/commits#get-a-commit-object`);
  const api = `${baseUrl}/repos/${repo.fullName}/git`;
  const person = { name: "Gust Test", email: "test@gust.invalid", date: "2025-01-01T00:00:00Z" };
  const parent = repo.parentOf(sha);
  return {
    status: 200,
    body: {
      sha,
      node_id: `C_${sha.slice(0, 12)}`,
      url: `${api}/commits/${sha}`,
      html_url: `https://github.com/${repo.fullName}/commit/${sha}`,
      author: person,
      committer: person,
      message: "commit",
      tree: { sha: repo.treeSha(sha, ""), url: `${api}/trees/${repo.treeSha(sha, "")}` },
      parents: parent ? [{ sha: parent, url: `${api}/commits/${parent}`, html_url: `https://github.com/${repo.fullName}/commit/${parent}` }] : [],
      verification: { verified: false, reason: "unsigned", signature: null, payload: null },
    },
  };
}

export function blob(baseUrl: string, repo: FakeRepository, sha: string): Reply {
  const content = repo.blob(sha);
  if (content === undefined) return notFound(`${DOCS}/git/blobs#get-a-blob`);
  return {
    status: 200,
    body: { sha, node_id: `B_${sha.slice(0, 12)}`, size: Buffer.byteLength(content), url: `${baseUrl}/repos/${repo.fullName}/git/blobs/${sha}`, content: wrapBase64(content), encoding: "base64" },
  };
}

export function compare(baseUrl: string, repo: FakeRepository, basehead: string): Reply {
  const [base, head] = basehead.split("...");
  const changes = base && head ? repo.diff(base, head) : undefined;
  if (!changes) return notFound(`${DOCS}/commits/commits#compare-two-commits`);
  return {
    status: 200,
    body: {
      url: `${baseUrl}/repos/${repo.fullName}/compare/${basehead}`,
      html_url: `https://github.com/${repo.fullName}/compare/${basehead}`,
      status: "ahead",
      ahead_by: 1,
      behind_by: 0,
      total_commits: 1,
      commits: [],
      files: changes.map((change) => fileEntry(repo, change.path, change.status)),
    },
  };
}

export function fileEntry(repo: FakeRepository, path: string, status: string): Record<string, unknown> {
  return {
    sha: randomBytes(20).toString("hex"),
    filename: path,
    status,
    additions: status === "removed" ? 0 : 1,
    deletions: status === "added" ? 0 : 1,
    changes: status === "modified" ? 2 : 1,
    blob_url: `https://github.com/${repo.fullName}/blob/HEAD/${path}`,
    raw_url: `https://github.com/${repo.fullName}/raw/HEAD/${path}`,
    contents_url: `https://api.github.com/repos/${repo.fullName}/contents/${path}`,
    patch: "@@ -1 +1 @@",
  };
}

export function notFound(documentation = DOCS): Reply {
  return { status: 404, body: { message: "Not Found", documentation_url: documentation, status: "404" } };
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

function wrapBase64(content: string): string {
  return (Buffer.from(content, "utf8").toString("base64").match(/.{1,60}/g) ?? []).join("\n") + "\n";
}
