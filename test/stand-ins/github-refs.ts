// The ref endpoints of the GitHub stand-in: the repository itself (its default branch), a branch,
// a git ref, an annotated tag object and a commit by ref. Shapes and error bodies as the REST API
// answers them.
import type { FakeRefs } from "./fake-refs";
import type { FakeRepository } from "./fake-repository";
import { DOCS } from "./github-bodies";
import type { Reply } from "./http-stand-in";

const PERSON = { name: "Gust Test", email: "test@gust.invalid", date: "2025-01-01T00:00:00Z" };
const UNSIGNED = { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null };

export function repository(baseUrl: string, repo: FakeRepository): Reply {
  const [owner, name] = repo.fullName.split("/") as [string, string];
  return {
    status: 200,
    body: {
      id: repo.id,
      node_id: `R_${repo.id}`,
      name,
      full_name: repo.fullName,
      private: true,
      owner: { login: owner, id: 1, node_id: "O_1", type: "Organization", site_admin: false, url: `${baseUrl}/users/${owner}`, html_url: `https://github.com/${owner}` },
      html_url: `https://github.com/${repo.fullName}`,
      description: null,
      fork: false,
      url: `${baseUrl}/repos/${repo.fullName}`,
      clone_url: `https://github.com/${repo.fullName}.git`,
      default_branch: repo.defaultBranch,
      visibility: "private",
      archived: false,
      disabled: false,
      created_at: "2025-01-01T00:00:00Z",
      updated_at: "2025-01-01T00:00:00Z",
      pushed_at: "2025-01-01T00:00:00Z",
    },
  };
}

export function branch(baseUrl: string, repo: FakeRepository, refs: FakeRefs, name: string): Reply {
  const sha = refs.branch(name);
  if (!sha) return { status: 404, body: { message: "Branch not found", documentation_url: `${DOCS}/branches/branches#get-a-branch`, status: "404" } };
  const api = `${baseUrl}/repos/${repo.fullName}/branches/${encodeURIComponent(name)}`;
  return {
    status: 200,
    body: {
      name,
      commit: commitBody(baseUrl, repo, sha),
      _links: { self: api, html: `https://github.com/${repo.fullName}/tree/${name}` },
      protected: false,
      protection: { enabled: false, required_status_checks: { enforcement_level: "off", contexts: [], checks: [] } },
      protection_url: `${api}/protection`,
    },
  };
}

/** `GET /git/ref/{ref}` with ref `heads/<branch>` or `tags/<tag>`: only an exact match. */
export function gitRef(baseUrl: string, repo: FakeRepository, refs: FakeRefs, ref: string): Reply {
  const api = `${baseUrl}/repos/${repo.fullName}/git`;
  let object: { type: "commit" | "tag"; sha: string } | undefined;
  if (ref.startsWith("heads/")) {
    const sha = refs.branch(ref.slice(6));
    if (sha) object = { type: "commit", sha };
  } else if (ref.startsWith("tags/")) {
    const tag = refs.tag(ref.slice(5));
    if (tag) object = tag.annotation ? { type: "tag", sha: tag.annotation.sha } : { type: "commit", sha: tag.commit };
  }
  if (!object) return { status: 404, body: { message: "Not Found", documentation_url: `${DOCS}/git/refs#get-a-reference`, status: "404" } };
  return {
    status: 200,
    body: {
      ref: `refs/${ref}`,
      node_id: `REF_${Buffer.from(ref).toString("base64url")}`,
      url: `${api}/refs/${ref}`,
      object: { ...object, url: `${api}/${object.type === "tag" ? "tags" : "commits"}/${object.sha}` },
    },
  };
}

export function tagObject(baseUrl: string, repo: FakeRepository, refs: FakeRefs, sha: string): Reply {
  const tag = refs.tagObject(sha);
  if (!tag?.annotation) return { status: 404, body: { message: "Not Found", documentation_url: `${DOCS}/git/tags#get-a-tag`, status: "404" } };
  const api = `${baseUrl}/repos/${repo.fullName}/git`;
  return {
    status: 200,
    body: {
      node_id: `TAG_${sha.slice(0, 12)}`,
      sha,
      url: `${api}/tags/${sha}`,
      tagger: PERSON,
      object: { sha: tag.commit, type: "commit", url: `${api}/commits/${tag.commit}` },
      tag: tag.name,
      message: `${tag.annotation.message}\n`,
      verification: UNSIGNED,
    },
  };
}

/** `GET /commits/{ref}`: a sha (or unambiguous prefix), a branch or a tag name. */
export function commitByRef(baseUrl: string, repo: FakeRepository, refs: FakeRefs, ref: string): Reply {
  const sha = refs.commitFor(ref);
  if (!sha) return { status: 422, body: { message: `No commit found for SHA: ${ref}`, documentation_url: `${DOCS}/commits/commits#get-a-commit`, status: "422" } };
  return { status: 200, body: { ...commitBody(baseUrl, repo, sha), stats: { total: 0, additions: 0, deletions: 0 }, files: [] } };
}

function commitBody(baseUrl: string, repo: FakeRepository, sha: string): Record<string, unknown> {
  const api = `${baseUrl}/repos/${repo.fullName}`;
  const parent = repo.parentOf(sha);
  const tree = repo.treeSha(sha, "");
  return {
    sha,
    node_id: `C_${sha.slice(0, 12)}`,
    commit: {
      author: PERSON,
      committer: PERSON,
      message: "commit",
      tree: { sha: tree, url: `${api}/git/trees/${tree}` },
      url: `${api}/git/commits/${sha}`,
      comment_count: 0,
      verification: UNSIGNED,
    },
    url: `${api}/commits/${sha}`,
    html_url: `https://github.com/${repo.fullName}/commit/${sha}`,
    comments_url: `${api}/commits/${sha}/comments`,
    author: null,
    committer: null,
    parents: parent ? [{ sha: parent, url: `${api}/commits/${parent}`, html_url: `https://github.com/${repo.fullName}/commit/${parent}` }] : [],
  };
}
