// A GitHub webhook (X-GitHub-Event + JSON body) → what Gust runs, or why it runs nothing. Pure.
// Only the fields used are validated; GitHub adds fields freely.
import { z } from "zod";
import { InputError } from "../../errors";
import type { NormalizedEvent, RepositoryInfo } from "../forge";
import { isZeroSha } from "../forge";

const repository = z.object({
  id: z.number(),
  full_name: z.string(),
  clone_url: z.string(),
  default_branch: z.string().optional(),
  // Older payloads (and push events) also carry master_branch.
  master_branch: z.string().optional(),
});

const pushPayload = z.object({
  ref: z.string(),
  before: z.string(),
  after: z.string(),
  deleted: z.boolean().optional(),
  head_commit: z.object({ id: z.string() }).nullable().optional(),
  repository,
});

const prSide = z.object({
  ref: z.string(),
  sha: z.string(),
  // null when the fork the pull request came from was deleted.
  repo: z.object({ id: z.number(), full_name: z.string() }).nullable(),
});

const pullRequestPayload = z.object({
  action: z.string(),
  number: z.number(),
  pull_request: z.object({ head: prSide, base: prSide }),
  repository,
});

const RUN_ACTIONS = new Set(["opened", "synchronize", "reopened"]);

/**
 * `eventName` is the X-GitHub-Event header. Throws InputError when a handled event's body lacks a
 * field Gust needs (it was not sent by GitHub, or GitHub changed); anything else is `ignored`.
 */
export function normalizeGithubEvent(eventName: string, payload: unknown): NormalizedEvent {
  switch (eventName) {
    case "push":
      return normalizePush(parse(pushPayload, payload, eventName));
    case "pull_request":
      return normalizePullRequest(parse(pullRequestPayload, payload, eventName));
    case "ping":
      return { kind: "ignored", reason: "ping: GitHub checking the webhook" };
    default:
      return { kind: "ignored", reason: `GitHub event '${eventName}' does not start pipelines` };
  }
}

function normalizePush(push: z.infer<typeof pushPayload>): NormalizedEvent {
  if (push.deleted || isZeroSha(push.after)) return { kind: "ignored", reason: `${push.ref} was deleted` };
  const repo = repositoryInfo(push.repository);
  // For an annotated tag `after` is the tag object; head_commit is the commit it points to.
  const sha = push.head_commit?.id ?? push.after;
  const changes = { kind: "push" as const, before: push.before, after: push.after };
  if (push.ref.startsWith("refs/heads/")) {
    const branch = push.ref.slice("refs/heads/".length);
    return { kind: "run", repo, context: { event: "push", ref: push.ref, sha, branch }, fromFork: false, deliveryKind: "push", changes };
  }
  if (push.ref.startsWith("refs/tags/")) {
    const tag = push.ref.slice("refs/tags/".length);
    return { kind: "run", repo, context: { event: "tag", ref: push.ref, sha, tag }, fromFork: false, deliveryKind: "push", changes };
  }
  return { kind: "ignored", reason: `push to ${push.ref}, which is neither a branch nor a tag` };
}

function normalizePullRequest(event: z.infer<typeof pullRequestPayload>): NormalizedEvent {
  const action = event.action;
  if (!RUN_ACTIONS.has(action)) return { kind: "ignored", reason: `pull request #${event.number} ${action.replace(/_/g, " ")}: only opened, synchronize and reopened run` };
  const { head, base } = event.pull_request;
  // A deleted fork (repo null) is a fork too: its code is not the base repository's.
  const fromFork = head.repo === null || base.repo === null || head.repo.id !== base.repo.id;
  return {
    kind: "run",
    repo: repositoryInfo(event.repository),
    context: {
      event: "pull_request",
      ref: `refs/pull/${event.number}/head`,
      sha: head.sha,
      branch: head.ref,
      targetBranch: base.ref,
      action: action as "opened" | "synchronize" | "reopened",
    },
    fromFork,
    deliveryKind: `pull_request.${action}`,
    changes: { kind: "review", number: event.number, headSha: head.sha, baseSha: base.sha },
  };
}

function repositoryInfo(repo: z.infer<typeof repository>): RepositoryInfo {
  return { fullName: repo.full_name, cloneUrl: repo.clone_url, defaultBranch: repo.default_branch ?? repo.master_branch ?? "main" };
}

function parse<T>(schema: z.ZodType<T>, payload: unknown, eventName: string): T {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join(".") : "body";
  throw new InputError(`GitHub ${eventName} payload: ${where}: ${issue?.message ?? "invalid"}`, "invalid_webhook_payload");
}
