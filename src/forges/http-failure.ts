// Turns a failed forge HTTP call into a ForgeError that says whose move it is: wait and retry (5xx,
// 429, rate limits, network), or fix the credentials / the request (other 4xx). Shared by the
// GitHub and GitLab clients so both classify the same way.
import { ForgeError } from "../errors";

export interface FailureContext {
  forge: "GitHub" | "GitLab";
  /** What Gust was doing, as the end of "when trying to …": "read .gust.yml at 1a2b3c4 in acme/api". */
  action: string;
  /** What the call needs, named as the forge's settings name it: "checks: write", "api scope". */
  permission?: string;
}

export interface HttpFailure {
  status: number;
  headers: Record<string, string | undefined>;
  /** The forge's own message (GitHub `message`, GitLab `message`/`error`). */
  detail: string;
  /** The response says a rate limit was hit even though the status is not 429 (GitHub's 403s). */
  rateLimited?: boolean;
  /** For 401: what is wrong with the credentials, when more is known than "the token". */
  credentialHint?: string;
  /** For 403: the permission the forge said is missing (GitHub's x-accepted-github-permissions). */
  missingPermission?: string;
}

/** Milliseconds to wait, from Retry-After (seconds or an HTTP date) or a rate-limit reset time. */
export function retryAfterMs(headers: Record<string, string | undefined>, now = Date.now()): number | undefined {
  const retryAfter = headers["retry-after"];
  if (retryAfter !== undefined && retryAfter.trim() !== "") {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  // GitHub: x-ratelimit-reset; GitLab: ratelimit-reset. Both are epoch seconds.
  const reset = headers["x-ratelimit-reset"] ?? headers["ratelimit-reset"];
  const remaining = headers["x-ratelimit-remaining"] ?? headers["ratelimit-remaining"];
  if (reset !== undefined && remaining === "0") {
    const at = Number(reset) * 1000;
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  return undefined;
}

export function httpFailure(context: FailureContext, failure: HttpFailure, cause: unknown): ForgeError {
  const { forge, action } = context;
  const { status, detail } = failure;
  const said = detail ? ` (${detail})` : "";
  const wait = retryAfterMs(failure.headers);
  const base = { cause, status, ...(wait !== undefined ? { retryAfterMs: wait } : {}) };

  if (status === 429 || failure.rateLimited) {
    const when = wait !== undefined ? `; retry after ${Math.ceil(wait / 1000)}s` : "";
    return new ForgeError(`${forge} rate limit reached when trying to ${action}${said}${when}`, {
      ...base,
      retryable: true,
      code: "forge_rate_limited",
    });
  }
  if (status >= 500) {
    return new ForgeError(`${forge} failed (HTTP ${status}) when trying to ${action}${said}`, {
      ...base,
      retryable: true,
      code: "forge_unavailable",
    });
  }
  if (status === 401) {
    const hint = failure.credentialHint ?? "the token is wrong, expired or revoked";
    return new ForgeError(`${forge} rejected the credentials when trying to ${action}${said}: ${hint}`, {
      ...base,
      retryable: false,
      code: "forge_unauthorized",
    });
  }
  if (status === 403) {
    const permission = failure.missingPermission ?? context.permission;
    const lack = permission ? `the credentials lack the ${permission} permission` : "the credentials lack a permission this needs";
    return new ForgeError(`${forge} refused to ${action}${said}: ${lack}`, { ...base, retryable: false, code: "forge_forbidden" });
  }
  if (status === 404) {
    return new ForgeError(
      `${forge} found nothing when trying to ${action}${said}: the repository or commit does not exist, or the credentials cannot see it`,
      { ...base, retryable: false, code: "forge_not_found" },
    );
  }
  return new ForgeError(`${forge} rejected the request to ${action} (HTTP ${status})${said}`, {
    ...base,
    retryable: false,
    code: "forge_rejected",
  });
}

/** No response at all: refused connection, DNS, reset, timeout. Worth another try later. */
export function networkFailure(context: FailureContext, cause: unknown): ForgeError {
  const reason = describeCause(cause);
  return new ForgeError(`could not reach ${context.forge} when trying to ${context.action}: ${reason}`, {
    cause,
    retryable: true,
    code: "forge_unreachable",
  });
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  // fetch() hides the useful part (ECONNREFUSED, ENOTFOUND) in error.cause.
  const inner = (cause as { cause?: unknown }).cause;
  if (inner instanceof Error && inner.message && inner.message !== cause.message) return `${cause.message}: ${inner.message}`;
  return cause.message;
}

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}
