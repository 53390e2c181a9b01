// GitLab failures → ForgeError (see ../http-failure.ts for the classification).
import { ForgeError } from "../../errors";
import { httpFailure, networkFailure, type FailureContext } from "../http-failure";
import { GitlabResponseError } from "./requester";

export type GitlabFailureContext = Omit<FailureContext, "forge">;

export function gitlabError(error: unknown, context: GitlabFailureContext): ForgeError {
  if (error instanceof ForgeError) return error;
  const forgeContext: FailureContext = { forge: "GitLab", ...context };
  if (error instanceof GitlabResponseError) {
    // A token without the scope gets {"error": "insufficient_scope", "scope": "api"}.
    const scope = (error.body as { scope?: unknown } | undefined)?.scope;
    return httpFailure(
      forgeContext,
      {
        status: error.status,
        headers: error.headers,
        detail: error.description,
        credentialHint: "the token is wrong, expired or revoked",
        ...(typeof scope === "string" ? { missingPermission: `\`${scope}\` scope` } : {}),
      },
      error,
    );
  }
  if (isNetworkError(error)) return networkFailure(forgeContext, error);
  throw error;
}

export function gitlabStatus(error: unknown): number | undefined {
  return error instanceof GitlabResponseError ? error.status : undefined;
}

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // fetch() rejects with TypeError("fetch failed") carrying the socket error; timeouts abort.
  return error.name === "AbortError" || error.name === "TimeoutError" || (error instanceof TypeError && /fetch failed|network/i.test(error.message));
}
