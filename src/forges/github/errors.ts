// Octokit's RequestError → ForgeError (see ../http-failure.ts for the classification).
import { RequestError } from "octokit";
import { ForgeError } from "../../errors";
import { httpFailure, networkFailure, type FailureContext } from "../http-failure";

export type GithubFailureContext = Omit<FailureContext, "forge"> & {
  /** For a 401: what is wrong with the credentials in use. */
  rejected?: string;
};

export function githubError(error: unknown, context: GithubFailureContext): ForgeError {
  if (error instanceof ForgeError) return error;
  const forgeContext: FailureContext = { forge: "GitHub", action: context.action, ...(context.permission ? { permission: context.permission } : {}) };
  if (error instanceof RequestError) {
    // Octokit reports a request that got no response (refused, reset, timed out) as status 500
    // without a response.
    if (!error.response) return networkFailure(forgeContext, error);
    const headers = lowerCaseHeaders(error.response.headers as Record<string, unknown>);
    const detail = githubMessage(error.response.data) ?? error.message;
    return httpFailure(
      forgeContext,
      {
        status: error.status,
        headers,
        detail,
        rateLimited: error.status === 403 && isRateLimited(headers, detail),
        ...(context.rejected ? { credentialHint: context.rejected } : {}),
        ...(headers["x-accepted-github-permissions"] ? { missingPermission: acceptedPermissions(headers["x-accepted-github-permissions"]) } : {}),
      },
      error,
    );
  }
  if (isNetworkError(error)) return networkFailure(forgeContext, error);
  throw error;
}

export function githubStatus(error: unknown): number | undefined {
  if (error instanceof ForgeError) return error.status;
  return error instanceof RequestError && error.response ? error.status : undefined;
}

/** GitHub's error body: {"message": "...", "errors": [...], "documentation_url": "..."}. */
export function githubMessage(data: unknown): string | undefined {
  if (data === null || typeof data !== "object") return typeof data === "string" && data ? data : undefined;
  const body = data as { message?: unknown; errors?: unknown };
  const message = typeof body.message === "string" ? body.message : undefined;
  const errors = Array.isArray(body.errors)
    ? body.errors
        .map((item) => (typeof item === "string" ? item : item && typeof item === "object" ? describeFieldError(item as Record<string, unknown>) : ""))
        .filter(Boolean)
    : [];
  return [message, ...errors].filter(Boolean).join("; ") || undefined;
}

function describeFieldError(item: Record<string, unknown>): string {
  if (typeof item.message === "string") return item.message;
  return [item.resource, item.field, item.code].filter((part) => typeof part === "string").join(" ");
}

/** GitHub answers a primary or secondary rate limit with 403 as well as 429. */
function isRateLimited(headers: Record<string, string | undefined>, detail: string): boolean {
  return headers["x-ratelimit-remaining"] === "0" || headers["retry-after"] !== undefined || /rate limit/i.test(detail);
}

/** `checks=write` or `contents=read; metadata=read` → `checks: write`, `contents: read, metadata: read`. */
function acceptedPermissions(header: string): string {
  return header
    .split(/[;,]/)
    .map((part) => part.trim().replace("=", ": "))
    .filter(Boolean)
    .join(", ");
}

function lowerCaseHeaders(headers: Record<string, unknown>): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(headers)) if (value !== undefined && value !== null) result[key.toLowerCase()] = String(value);
  return result;
}

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "AbortError" || error.name === "TimeoutError") return true;
  const code = (error as NodeJS.ErrnoException).code ?? ((error as { cause?: NodeJS.ErrnoException }).cause?.code as string | undefined);
  return typeof code === "string" && /^(E[A-Z]+|UND_ERR_.*)$/.test(code);
}
