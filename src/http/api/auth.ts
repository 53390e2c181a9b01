// Bearer-token authentication of the API. Scopes nest: admin implies write, write implies read.
// Refusals go through the app's onError as HttpErrors: 401 (with WWW-Authenticate) when there is
// no usable token, 403 when the token is valid but lacks the scope.
import type { MiddlewareHandler } from "hono";
import { HttpError } from "../http-error";
import type { ApiEnv } from "./route";
import type { TokenScope, TokensPort } from "./ports";

const RANK: Record<TokenScope, number> = { read: 1, write: 2, admin: 3 };

/** Whether a token with `scopes` may do what needs `required`. */
export function grants(scopes: readonly TokenScope[], required: TokenScope): boolean {
  return scopes.some((scope) => (RANK[scope] ?? 0) >= RANK[required]);
}

/** The token of an `Authorization: Bearer <token>` header; undefined when there is none. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

export function authorize(tokens: TokensPort, required: TokenScope): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const header = c.req.header("Authorization");
    const token = bearerToken(header);
    if (token === undefined) {
      const message = header === undefined ? "this request needs an API token: send Authorization: Bearer <token>" : "the Authorization header must be 'Bearer <token>'";
      throw new HttpError(401, "unauthorized", message, { "WWW-Authenticate": 'Bearer realm="gust"' });
    }
    const verified = await tokens.verifyToken(token);
    if (!verified) {
      throw new HttpError(401, "unauthorized", "the API token is unknown, revoked or expired", { "WWW-Authenticate": 'Bearer realm="gust", error="invalid_token"' });
    }
    c.get("log").token = verified.id;
    if (!grants(verified.scopes, required)) throw new HttpError(403, "forbidden", `this token lacks the '${required}' scope`);
    c.set("token", verified);
    await next();
  };
}
