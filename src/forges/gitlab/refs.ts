// Branches, tags and commits on GitLab for Forge.resolveRef: the branches, tags (whose commit is
// already peeled) and commits APIs. Each lookup answers undefined when GitLab says that branch,
// tag or commit is not there; anything else (a missing project included) is thrown as it came.
import type { Gitlab } from "@gitbeaker/rest";
import type { ResolvedRef } from "../forge";
import { branchResolved, commitResolved, tagResolved, type RefQuery } from "../ref-query";
import { GitlabResponseError } from "./requester";

export async function resolveGitlabRef(api: Gitlab<false>, project: string, query: RefQuery): Promise<ResolvedRef | undefined> {
  switch (query.kind) {
    case "branch":
      return branch(api, project, query.name);
    case "tag":
      return tag(api, project, query.name);
    case "commit":
      return commit(api, project, query.sha);
    case "name":
      return (await branch(api, project, query.name)) ?? (await tag(api, project, query.name)) ?? (query.maybeSha ? await commit(api, project, query.name) : undefined);
  }
}

async function branch(api: Gitlab<false>, project: string, name: string): Promise<ResolvedRef | undefined> {
  const data = await unlessMissing(/branch not found/i, () => api.Branches.show(project, name));
  return data && branchResolved(data.name, data.commit.id as string);
}

async function tag(api: Gitlab<false>, project: string, name: string): Promise<ResolvedRef | undefined> {
  const data = await unlessMissing(/tag not found/i, () => api.Tags.show(project, name));
  return data && tagResolved(data.name, data.commit.id as string);
}

async function commit(api: Gitlab<false>, project: string, sha: string): Promise<ResolvedRef | undefined> {
  const data = await unlessMissing(/commit not found/i, () => api.Commits.show(project, sha));
  return data && commitResolved(data.id as string);
}

/** GitLab answers "404 Branch Not Found" (Tag, Commit) for what is missing, "404 Project Not Found" for the project. */
async function unlessMissing<T>(missing: RegExp, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof GitlabResponseError && error.status === 404 && missing.test(error.description)) return undefined;
    throw error;
  }
}
