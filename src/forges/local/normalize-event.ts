// A ref update in a repository on disk (what a post-receive hook sees: old sha, new sha, ref) → what
// Gust runs. The local counterpart of the GitHub and GitLab webhook normalizers. Pure.
import { InputError } from "../../errors";
import type { NormalizedEvent } from "../forge";
import { isZeroSha } from "../forge";

export interface LocalRefUpdate {
  /** Absolute path of the repository. */
  repo: string;
  ref: string;
  before: string;
  after: string;
  defaultBranch?: string;
}

export function normalizeLocalEvent(eventName: string, payload: LocalRefUpdate): NormalizedEvent {
  if (eventName !== "push") return { kind: "ignored", reason: `local event '${eventName}' does not start pipelines` };
  for (const field of ["repo", "ref", "before", "after"] as const) {
    if (typeof payload?.[field] !== "string") throw new InputError(`local push: ${field}: expected a string`, "invalid_webhook_payload");
  }
  if (isZeroSha(payload.after)) return { kind: "ignored", reason: `${payload.ref} was deleted` };
  const repo = { fullName: payload.repo, cloneUrl: payload.repo, defaultBranch: payload.defaultBranch ?? "main" };
  const changes = { kind: "push" as const, before: payload.before, after: payload.after };
  const base = { ref: payload.ref, sha: payload.after };
  if (payload.ref.startsWith("refs/heads/")) {
    return { kind: "run", repo, context: { event: "push", ...base, branch: payload.ref.slice(11) }, fromFork: false, deliveryKind: "push", changes };
  }
  if (payload.ref.startsWith("refs/tags/")) {
    return { kind: "run", repo, context: { event: "tag", ...base, tag: payload.ref.slice(10) }, fromFork: false, deliveryKind: "push", changes };
  }
  return { kind: "ignored", reason: `push to ${payload.ref}, which is neither a branch nor a tag` };
}
