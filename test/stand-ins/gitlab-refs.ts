// The project and ref endpoints of the GitLab stand-in: the project (its default branch), a
// branch, a tag (its commit peeled, `target` the tag object of an annotated tag) and a commit by
// sha or ref. Shapes and "404 … Not Found" bodies as GitLab answers them.
import type { FakeRefs } from "./fake-refs";
import type { FakeRepository } from "./fake-repository";
import type { Reply } from "./http-stand-in";

const WEB = "https://gitlab.example.com";
const DATE = "2025-01-01T00:00:00.000+00:00";

export function project(repo: FakeRepository): Reply {
  const name = repo.fullName.split("/").pop()!;
  const namespace = repo.fullName.slice(0, repo.fullName.length - name.length - 1);
  return {
    status: 200,
    body: {
      id: repo.id,
      description: null,
      name,
      name_with_namespace: repo.fullName.split("/").join(" / "),
      path: name,
      path_with_namespace: repo.fullName,
      created_at: DATE,
      default_branch: repo.defaultBranch,
      tag_list: [],
      topics: [],
      ssh_url_to_repo: `git@gitlab.example.com:${repo.fullName}.git`,
      http_url_to_repo: `${WEB}/${repo.fullName}.git`,
      web_url: `${WEB}/${repo.fullName}`,
      visibility: "private",
      empty_repo: false,
      archived: false,
      namespace: { id: 1, name: namespace, path: namespace, kind: "group", full_path: namespace },
      last_activity_at: DATE,
    },
  };
}

export function branch(repo: FakeRepository, refs: FakeRefs, name: string): Reply {
  const sha = refs.branch(name);
  if (!sha) return { status: 404, body: { message: "404 Branch Not Found" } };
  const isDefault = name === repo.defaultBranch;
  return {
    status: 200,
    body: {
      name,
      merged: false,
      protected: isDefault,
      default: isDefault,
      developers_can_push: false,
      developers_can_merge: false,
      can_push: true,
      web_url: `${WEB}/${repo.fullName}/-/tree/${name}`,
      commit: commitBody(repo, sha),
    },
  };
}

export function tag(repo: FakeRepository, refs: FakeRefs, name: string): Reply {
  const found = refs.tag(name);
  if (!found) return { status: 404, body: { message: "404 Tag Not Found" } };
  return {
    status: 200,
    body: {
      name,
      message: found.annotation?.message ?? "",
      target: found.annotation?.sha ?? found.commit,
      commit: commitBody(repo, found.commit),
      release: null,
      protected: false,
      created_at: found.annotation ? DATE : null,
    },
  };
}

/** `GET /repository/commits/:sha`: a sha (or unambiguous prefix), a branch or a tag name. */
export function commit(repo: FakeRepository, refs: FakeRefs, ref: string): Reply {
  const sha = refs.commitFor(ref);
  if (!sha) return { status: 404, body: { message: "404 Commit Not Found" } };
  return {
    status: 200,
    body: { ...commitBody(repo, sha), stats: { additions: 0, deletions: 0, total: 0 }, status: null, project_id: repo.id, last_pipeline: null },
  };
}

function commitBody(repo: FakeRepository, sha: string): Record<string, unknown> {
  const parent = repo.parentOf(sha);
  return {
    id: sha,
    short_id: sha.slice(0, 8),
    created_at: DATE,
    parent_ids: parent ? [parent] : [],
    title: "commit",
    message: "commit\n",
    author_name: "Gust Test",
    author_email: "test@gust.invalid",
    authored_date: DATE,
    committer_name: "Gust Test",
    committer_email: "test@gust.invalid",
    committed_date: DATE,
    trailers: {},
    extended_trailers: {},
    web_url: `${WEB}/${repo.fullName}/-/commit/${sha}`,
  };
}
