// What a ref given by a person asks for (Forge.resolveRef, contract point 7), decided before any
// forge is asked: a full branch or tag ref, a full sha, or a bare name to look up as a branch, a
// tag and perhaps an abbreviated sha. Shared by every forge so they read refs alike. Pure.
import { ForgeError } from "../errors";
import type { ResolvedRef } from "./forge";

export type RefQuery =
  | { kind: "branch"; name: string }
  | { kind: "tag"; name: string }
  | { kind: "commit"; sha: string }
  /** `maybeSha`: hex that could abbreviate a commit, tried after the branch and the tag. */
  | { kind: "name"; name: string; maybeSha: boolean };

const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;
const SHORT_SHA = /^[0-9a-f]{4,63}$/i;

export function parseRefQuery(ref: string): RefQuery {
  const text = ref.trim();
  if (text.startsWith("refs/heads/")) return { kind: "branch", name: checked(text.slice(11), ref) };
  if (text.startsWith("refs/tags/")) return { kind: "tag", name: checked(text.slice(10), ref) };
  if (text.startsWith("refs/")) throw notFound(ref, "only branches (refs/heads/…), tags (refs/tags/…) and commits can be run");
  if (FULL_SHA.test(text)) return { kind: "commit", sha: text.toLowerCase() };
  return { kind: "name", name: checked(text, ref), maybeSha: SHORT_SHA.test(text) };
}

/**
 * git's ref-name rules (git check-ref-format): a name breaking them cannot exist, and one starting
 * with `-` would read as an option to git.
 */
function checked(name: string, ref: string): string {
  const bad =
    name === "" ||
    name.startsWith("-") ||
    name.startsWith("/") ||
    name.endsWith("/") ||
    name.endsWith(".") ||
    name.endsWith(".lock") ||
    name.includes("..") ||
    name.includes("//") ||
    name.includes("@{") ||
    name === "@" ||
    /[\u0000-\u0020\u007f~^:?*[\\]/.test(name) ||
    name.split("/").some((part) => part.startsWith("."));
  if (bad) throw notFound(ref, "that is not a valid branch or tag name");
  return name;
}

export function notFound(ref: string, why: string, repo?: string): ForgeError {
  return new ForgeError(`no branch, tag or commit '${ref}'${repo ? ` in ${repo}` : ""}: ${why}`, { retryable: false, code: "forge_not_found" });
}

export function branchResolved(name: string, sha: string): ResolvedRef {
  return { sha, ref: `refs/heads/${name}`, branch: name };
}

export function tagResolved(name: string, sha: string): ResolvedRef {
  return { sha, ref: `refs/tags/${name}`, tag: name };
}

export function commitResolved(sha: string): ResolvedRef {
  return { sha, ref: sha };
}
