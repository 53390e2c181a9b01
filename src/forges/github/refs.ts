// Branches, tags and commits on GitHub for Forge.resolveRef: the branches API for a branch head,
// git refs (peeling annotated tag objects) for a tag, the commits API for a (short) sha. Each
// lookup answers undefined when GitHub has no such thing; other failures are thrown as they came.
import type { ResolvedRef } from "../forge";
import { branchResolved, commitResolved, tagResolved, type RefQuery } from "../ref-query";
import type { GithubApi } from "./client";
import { githubStatus } from "./errors";

/** A tag may tag a tag; git allows chains, GitHub shows each object. */
const MAX_TAG_DEPTH = 5;

export async function resolveGithubRef(api: GithubApi, owner: string, repo: string, query: RefQuery): Promise<ResolvedRef | undefined> {
  switch (query.kind) {
    case "branch":
      return branch(api, owner, repo, query.name);
    case "tag":
      return tag(api, owner, repo, query.name);
    case "commit":
      return commit(api, owner, repo, query.sha);
    case "name":
      return (
        (await branch(api, owner, repo, query.name)) ??
        (await tag(api, owner, repo, query.name)) ??
        (query.maybeSha ? await commit(api, owner, repo, query.name) : undefined)
      );
  }
}

async function branch(api: GithubApi, owner: string, repo: string, name: string): Promise<ResolvedRef | undefined> {
  const data = await unlessMissing(async () => (await api.rest.repos.getBranch({ owner, repo, branch: name })).data);
  return data && branchResolved(data.name, data.commit.sha);
}

async function tag(api: GithubApi, owner: string, repo: string, name: string): Promise<ResolvedRef | undefined> {
  const ref = await unlessMissing(async () => (await api.rest.git.getRef({ owner, repo, ref: `tags/${name}` })).data);
  if (!ref) return undefined;
  let target = ref.object;
  // An annotated tag points at a tag object; the commit is behind it.
  for (let depth = 0; target.type === "tag" && depth < MAX_TAG_DEPTH; depth++) {
    target = (await api.rest.git.getTag({ owner, repo, tag_sha: target.sha })).data.object;
  }
  return target.type === "commit" ? tagResolved(name, target.sha) : undefined;
}

async function commit(api: GithubApi, owner: string, repo: string, sha: string): Promise<ResolvedRef | undefined> {
  const data = await unlessMissing(async () => (await api.rest.repos.getCommit({ owner, repo, ref: sha, per_page: 1 })).data);
  return data && commitResolved(data.sha);
}

/** 404, or the commits API's 422 "No commit found for SHA", mean "not there". */
async function unlessMissing<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    const status = githubStatus(error);
    if (status === 404 || status === 422) return undefined;
    throw error;
  }
}
