// The HTTP layer under @gitbeaker/rest, one attempt per call. Gitbeaker's own handler retries 429
// and 502 ten times within a quarter second, ignoring Retry-After, and then throws an error that
// has lost the status; the outbox retries with backoff instead, so it needs the status and the
// Retry-After of the one answer.
import {
  createRequesterFn,
  getMatchingRateLimiter,
  type FormattedResponse,
  type RateLimiters,
  type RequestOptions,
  type ResponseBodyTypes,
} from "@gitbeaker/requester-utils";

/** A GitLab answer outside 2xx, with what GitLab said. */
export class GitlabResponseError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    /** `message` or `error` of the body, or the text. */
    readonly description: string,
    readonly body: unknown,
  ) {
    super(`GitLab answered ${status}: ${description}`);
    this.name = "GitlabResponseError";
  }
}

async function singleAttempt(endpoint: string, options?: Record<string, unknown>): Promise<FormattedResponse> {
  const { rateLimiters, prefixUrl, searchParams, method, headers, body, signal } = (options ?? {}) as RequestOptions & {
    rateLimiters?: RateLimiters;
  };
  // Gitbeaker's client-side limits (3000 requests a minute by default) still apply.
  await getMatchingRateLimiter(endpoint, rateLimiters, method)();
  const base = prefixUrl ? (prefixUrl.endsWith("/") ? prefixUrl : `${prefixUrl}/`) : undefined;
  const url = new URL(endpoint, base);
  if (searchParams) url.search = searchParams;
  const response = await fetch(url, { method: method ?? "GET", ...(headers ? { headers } : {}), ...(body !== undefined ? { body } : {}), ...(signal ? { signal } : {}) });
  const responseHeaders = Object.fromEntries(response.headers.entries());
  if (!response.ok) {
    const text = await response.text();
    const parsed = parseJson(text);
    throw new GitlabResponseError(response.status, responseHeaders, describe(parsed, text), parsed ?? text);
  }
  const responseBody = response.status === 204 ? null : await readBody(response);
  return { body: responseBody as ResponseBodyTypes, headers: responseHeaders, status: response.status };
}

async function readBody(response: Response): Promise<unknown> {
  const type = (response.headers.get("content-type") ?? "").split(";")[0]!.trim();
  if (type === "application/json") return (await response.json()) ?? {};
  // Raw files come as text/plain — or application/octet-stream for some names; text either way here.
  return response.text();
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** GitLab says `{"message": "404 File Not Found"}`, `{"error": "state is missing"}`, or `{"message": {"field": [..]}}`. */
function describe(parsed: unknown, text: string): string {
  if (parsed && typeof parsed === "object") {
    const body = parsed as { message?: unknown; error?: unknown; error_description?: unknown };
    const value = body.message ?? body.error_description ?? body.error;
    if (typeof value === "string") return value;
    if (value !== undefined) return JSON.stringify(value);
  }
  return text.slice(0, 500);
}

export const singleAttemptRequester = createRequesterFn((_, options) => Promise.resolve(options), singleAttempt);
