// Bearer tokens on the API: no token, a malformed header, an unknown, revoked or expired token are
// 401 with WWW-Authenticate; a valid token without the scope is 403; admin ⊃ write ⊃ read.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearerToken, grants } from "../../src/http/api/auth";
import { useTestDatabase } from "../helpers/database";
import { createApiHarness, errorOf, type ApiHarness } from "./api-harness";

describe("grants and bearerToken", () => {
  it("nests the scopes: admin implies write implies read", () => {
    expect(grants(["read"], "read")).toBe(true);
    expect(grants(["read"], "write")).toBe(false);
    expect(grants(["write"], "read")).toBe(true);
    expect(grants(["write"], "admin")).toBe(false);
    expect(grants(["admin"], "write")).toBe(true);
    expect(grants(["read", "admin"], "admin")).toBe(true);
    expect(grants([], "read")).toBe(false);
  });

  it("takes the token of a Bearer header only", () => {
    expect(bearerToken("Bearer gust_abc")).toBe("gust_abc");
    expect(bearerToken("bearer   gust_abc ")).toBe("gust_abc");
    expect(bearerToken("Basic Z3VzdDpzZWNyZXQ=")).toBeUndefined();
    expect(bearerToken("Bearer")).toBeUndefined();
    expect(bearerToken("Bearer a b")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe("API authentication", () => {
  const test = useTestDatabase("pglite");
  let api: ApiHarness;
  beforeAll(async () => {
    api = await createApiHarness(test.database);
  });
  afterAll(() => api.close());

  it("refuses a request without a token with 401 and WWW-Authenticate", async () => {
    const response = await api.call("GET", "/api/pipelines", { token: null });
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer realm="gust"$/);
    expect(await errorOf(response)).toEqual({ code: "unauthorized", message: expect.stringMatching(/needs an API token/) });
  });

  it("refuses a header that is not Bearer", async () => {
    const response = await api.call("GET", "/api/pipelines", { token: null, headers: { Authorization: `Basic ${Buffer.from("user:pass").toString("base64")}` } });
    expect(response.status).toBe(401);
    expect((await errorOf(response)).message).toMatch(/must be 'Bearer <token>'/);
  });

  it("refuses unknown, revoked and expired tokens with 401", async () => {
    const unknown = await api.call("GET", "/api/pipelines", { token: "gust_not-a-real-token" });
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get("WWW-Authenticate")).toMatch(/^Bearer .*error="invalid_token"/);
    expect(await errorOf(unknown)).toEqual({ code: "unauthorized", message: "the API token is unknown, revoked or expired" });

    const expired = await api.tokens.createToken({ name: "old", scopes: ["admin"], expiresAt: new Date(Date.now() - 1000) });
    expect((await api.call("GET", "/api/pipelines", { token: expired.token })).status).toBe(401);

    const revoked = await api.tokens.createToken({ name: "gone", scopes: ["admin"] });
    expect((await api.call("GET", "/api/pipelines", { token: revoked.token })).status).toBe(200);
    await api.tokens.revokeToken(revoked.id);
    expect((await api.call("GET", "/api/pipelines", { token: revoked.token })).status).toBe(401);
  });

  it("refuses a read token on a write route and a write token on an admin route with 403", async () => {
    const cancel = await api.call("POST", "/api/pipelines/1/cancel", { token: api.token.read });
    expect(cancel.status).toBe(403);
    expect(await errorOf(cancel)).toEqual({ code: "forbidden", message: "this token lacks the 'write' scope" });
    const retry = await api.call("POST", "/api/pipelines/1/retry", { token: api.token.read, body: {} });
    expect(retry.status).toBe(403);
    const trigger = await api.call("POST", "/api/repositories/1/trigger", { token: api.token.read, body: {} });
    expect(trigger.status).toBe(403);

    for (const [method, path] of [["GET", "/api/tokens"], ["POST", "/api/tokens"], ["DELETE", "/api/tokens/1"]] as const) {
      const response = await api.call(method, path, { token: api.token.write, ...(method === "POST" ? { body: { name: "x", scopes: ["read"] } } : {}) });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect((await errorOf(response)).message).toBe("this token lacks the 'admin' scope");
    }
  });

  it("lets the scopes above do what the scopes below may", async () => {
    for (const token of [api.token.read, api.token.write, api.token.admin]) {
      expect((await api.call("GET", "/api/repositories", { token })).status).toBe(200);
    }
    // Past the scope check: the pipeline does not exist.
    expect((await api.call("POST", "/api/pipelines/999999/cancel", { token: api.token.write })).status).toBe(404);
    expect((await api.call("POST", "/api/pipelines/999999/cancel", { token: api.token.admin })).status).toBe(404);
    expect((await api.call("GET", "/api/tokens", { token: api.token.admin })).status).toBe(200);
  });

  it("checks the token before validating the request", async () => {
    expect((await api.call("GET", "/api/pipelines?limit=nope", { token: null })).status).toBe(401);
    expect((await api.call("POST", "/api/tokens", { token: api.token.read, body: "{" })).status).toBe(403);
  });

  it("serves the OpenAPI document without a token", async () => {
    const response = await api.call("GET", "/api/openapi.json", { token: null });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { openapi: string }).openapi).toBe("3.1.0");
  });
});
