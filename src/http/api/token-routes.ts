// /api/tokens (admin scope): create (the token is shown once), list, revoke.
import { HttpError } from "../http-error";
import type { ApiDeps } from "./ports";
import { defineRoute, type ApiRoute } from "./route";
import { createdToken, createTokenBody, errorBody, idParams, tokenList } from "./schemas";
import { tokenJson } from "./serialize";

const TAG = "tokens";
const DAY_MS = 24 * 60 * 60 * 1000;

export function tokenRoutes(deps: Pick<ApiDeps, "tokens" | "now">): ApiRoute[] {
  const now = deps.now ?? (() => new Date());
  return [
    defineRoute({
      method: "post",
      path: "/tokens",
      operationId: "createToken",
      summary: "Create an API token",
      tag: TAG,
      scope: "admin",
      body: createTokenBody,
      responses: { 201: { description: "the token, shown this once", schema: createdToken } },
      async handle({ c, body }) {
        const expiresAt = body.expiresInDays === undefined ? null : new Date(now().getTime() + body.expiresInDays * DAY_MS);
        const created = await deps.tokens.createToken({ name: body.name, scopes: body.scopes, expiresAt });
        c.get("log").created = created.id;
        return c.json({ id: created.id, name: created.name, scopes: [...created.scopes], token: created.token, expiresAt: created.expiresAt?.toISOString() ?? null }, 201);
      },
    }),
    defineRoute({
      method: "get",
      path: "/tokens",
      operationId: "listTokens",
      summary: "API tokens (never the tokens themselves)",
      tag: TAG,
      scope: "admin",
      responses: { 200: { description: "every token", schema: tokenList } },
      async handle({ c }) {
        return c.json({ tokens: (await deps.tokens.listTokens()).map(tokenJson) });
      },
    }),
    defineRoute({
      method: "delete",
      path: "/tokens/:id",
      operationId: "revokeToken",
      summary: "Revoke an API token",
      tag: TAG,
      scope: "admin",
      params: idParams,
      responses: { 204: { description: "revoked" }, 404: { description: "no such token", schema: errorBody } },
      async handle({ c, params }) {
        if (!(await deps.tokens.revokeToken(params.id))) throw new HttpError(404, "not_found", `token ${params.id} not found`);
        return c.body(null, 204);
      },
    }),
  ];
}
