// The one mapping from thrown errors to HTTP answers, used by app.onError. The body is always
// `{ error: { code, message } }`; a 500 says nothing about what went wrong inside.
import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "pino";
import { GustError, isGustError } from "../errors";

/** A refusal with its own status: 401 bad signature, 413 body too large, 400 missing header. */
export class HttpError extends GustError {
  constructor(
    readonly status: ContentfulStatusCode,
    code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message, { fault: status < 500 ? "user" : "infrastructure", retryable: status === 503, code });
  }
}

/** Seconds a client should wait before retrying after a 503. */
const RETRY_AFTER_SECONDS = 5;

export interface ErrorAnswer {
  status: ContentfulStatusCode;
  code: string;
  message: string;
  headers: Record<string, string>;
}

/** Errors named `not_found` or `<thing>_not_found` by whichever layer threw them. */
function isNotFound(error: GustError): boolean {
  return error.code === "not_found" || error.code.endsWith("_not_found");
}

export function errorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof HttpError) return { status: error.status, code: error.code, message: error.message, headers: error.headers };
  if (isGustError(error)) {
    if (isNotFound(error)) return { status: 404, code: error.code, message: error.message, headers: {} };
    if (error.fault === "user") return { status: 400, code: error.code, message: error.message, headers: {} };
    if (error.fault === "infrastructure" && error.retryable) {
      return {
        status: 503,
        code: "unavailable",
        message: "a service Gust depends on is unavailable; retry later",
        headers: { "Retry-After": String(RETRY_AFTER_SECONDS) },
      };
    }
  }
  // Hono's own refusals (a malformed request it could not route or parse) carry a safe status.
  if (error instanceof HTTPException && error.status < 500) {
    return { status: error.status, code: "bad_request", message: error.message || "bad request", headers: {} };
  }
  return { status: 500, code: "internal", message: "internal error", headers: {} };
}

/**
 * Answers and logs: failures with their stack (a dependency being down as a warning, anything
 * else as an error), refusals only in the request line.
 */
export function errorResponse(error: unknown, logger: Logger): Response {
  const answer = errorAnswer(error);
  if (answer.status === 503) logger.warn({ err: error, code: answer.code }, "request failed");
  else if (answer.status >= 500) logger.error({ err: error, code: answer.code }, "request failed");
  return Response.json(
    { error: { code: answer.code, message: answer.message } },
    { status: answer.status, headers: answer.headers },
  );
}

/**
 * Hono hands only Error instances to onError; anything else thrown would escape the app and reach
 * the server adapter, which answers without our JSON. Turn it into an Error so onError sees it.
 */
export const errorsOnly: MiddlewareHandler = async (_c, next) => {
  try {
    await next();
  } catch (error) {
    throw error instanceof Error ? error : new Error(`non-Error thrown: ${String(error)}`, { cause: error });
  }
};
