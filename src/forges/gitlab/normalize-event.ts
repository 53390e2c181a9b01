// A GitLab webhook (X-Gitlab-Event + JSON body) → what Gust runs, or why it runs nothing. Pure.
// Only the fields used are validated; GitLab adds fields freely.
import { z } from "zod";
import { InputError } from "../../errors";
import type { NormalizedEvent, RepositoryInfo } from "../forge";
import { isZeroSha } from "../forge";

const project = z.object({
  id: z.number(),
  path_with_namespace: z.string(),
  git_http_url: z.string(),
  default_branch: z.string().nullable().optional(),
});

const pushPayload = z.object({
  ref: z.string(),
  before: z.string(),
  after: z.string(),
  // The commit the ref points to after the push (for an annotated tag, not the tag object); null when deleted.
  checkout_sha: z.string().nullable(),
  project,
});

const mergeRequestPayload = z.object({
  project,
  object_attributes: z.object({
    iid: z.number(),
    action: z.string().optional(),
    source_branch: z.string(),
    target_branch: z.string(),
    source_project_id: z.number(),
    target_project_id: z.number(),
    last_commit: z.object({ id: z.string() }),
    // Only present when the update brought new commits.
    oldrev: z.string().optional(),
  }),
});

/**
 * `eventName` is the X-Gitlab-Event header ("System Hook" deliveries are told apart by
 * object_kind). Throws InputError when a handled event's body lacks a field Gust needs.
 */
export function normalizeGitlabEvent(eventName: string, payload: unknown): NormalizedEvent {
  const kind = eventName === "System Hook" ? objectKind(payload) : eventName;
  switch (kind) {
    case "Push Hook":
    case "push":
      return normalizePush(parse(pushPayload, payload, "Push Hook"), "Push Hook");
    case "Tag Push Hook":
    case "tag_push":
      return normalizePush(parse(pushPayload, payload, "Tag Push Hook"), "Tag Push Hook");
    case "Merge Request Hook":
    case "merge_request":
      return normalizeMergeRequest(parse(mergeRequestPayload, payload, "Merge Request Hook"));
    default:
      return { kind: "ignored", reason: `GitLab event '${eventName}' does not start pipelines` };
  }
}

function normalizePush(push: z.infer<typeof pushPayload>, hook: string): NormalizedEvent {
  if (push.checkout_sha === null || isZeroSha(push.after)) return { kind: "ignored", reason: `${push.ref} was deleted` };
  const repo = repositoryInfo(push.project);
  const sha = push.checkout_sha;
  const changes = { kind: "push" as const, before: push.before, after: sha };
  if (push.ref.startsWith("refs/heads/")) {
    const branch = push.ref.slice("refs/heads/".length);
    return { kind: "run", repo, context: { event: "push", ref: push.ref, sha, branch }, fromFork: false, deliveryKind: hook, changes };
  }
  if (push.ref.startsWith("refs/tags/")) {
    const tag = push.ref.slice("refs/tags/".length);
    return { kind: "run", repo, context: { event: "tag", ref: push.ref, sha, tag }, fromFork: false, deliveryKind: hook, changes };
  }
  return { kind: "ignored", reason: `push to ${push.ref}, which is neither a branch nor a tag` };
}

function normalizeMergeRequest(event: z.infer<typeof mergeRequestPayload>): NormalizedEvent {
  const mr = event.object_attributes;
  const action = mr.action ?? "open";
  const deliveryKind = `Merge Request Hook.${action}`;
  let run: "opened" | "synchronize" | "reopened";
  if (action === "open") run = "opened";
  else if (action === "reopen") run = "reopened";
  else if (action === "update") {
    // Title, label and assignee edits are updates too; only new commits bring oldrev.
    if (!mr.oldrev) return { kind: "ignored", reason: `merge request !${mr.iid} updated without new commits` };
    run = "synchronize";
  } else {
    return { kind: "ignored", reason: `merge request !${mr.iid} ${action}: only open, reopen and updates with new commits run` };
  }
  const sha = mr.last_commit.id;
  return {
    kind: "run",
    // `project` is the target project: the one Gust builds, where refs/merge-requests/<iid>/head holds the source commits.
    repo: repositoryInfo(event.project),
    context: {
      event: "merge_request",
      ref: `refs/merge-requests/${mr.iid}/head`,
      sha,
      branch: mr.source_branch,
      targetBranch: mr.target_branch,
      action: run,
    },
    fromFork: mr.source_project_id !== mr.target_project_id,
    deliveryKind,
    changes: { kind: "review", number: mr.iid, headSha: sha },
  };
}

function repositoryInfo(repo: z.infer<typeof project>): RepositoryInfo {
  return { fullName: repo.path_with_namespace, cloneUrl: repo.git_http_url, defaultBranch: repo.default_branch ?? "main" };
}

function objectKind(payload: unknown): string {
  const kind = payload && typeof payload === "object" ? (payload as { object_kind?: unknown }).object_kind : undefined;
  return typeof kind === "string" ? kind : "System Hook";
}

function parse<T>(schema: z.ZodType<T>, payload: unknown, hook: string): T {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join(".") : "body";
  throw new InputError(`GitLab ${hook} payload: ${where}: ${issue?.message ?? "invalid"}`, "invalid_webhook_payload");
}
