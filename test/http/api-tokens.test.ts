// /api/tokens: an admin creates a token (shown once, usable at once), lists tokens without their
// values, and revokes one (which stops working at once).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "../../src/store";
import { useTestDatabase } from "../helpers/database";
import { createApiHarness, errorOf, json, type ApiHarness } from "./api-harness";

const NOW = new Date("2031-05-06T07:08:09.000Z");

describe("API: tokens", () => {
  const test = useTestDatabase("pglite");
  let api: ApiHarness;
  beforeAll(async () => {
    api = await createApiHarness(test.database, { now: () => NOW });
  });
  afterAll(() => api.close());

  it("creates a token that works with its scopes, and lists it without its value", async () => {
    const response = await api.call("POST", "/api/tokens", { body: { name: " ci bot ", scopes: ["write"], expiresInDays: 30 } });
    expect(response.status).toBe(201);
    const created = (await json(response)) as { id: number; name: string; scopes: string[]; token: string; expiresAt: string };
    expect(created).toEqual({ id: expect.any(Number), name: "ci bot", scopes: ["write"], token: expect.stringMatching(/^gust_[A-Za-z0-9_-]{43}$/), expiresAt: "2031-06-05T07:08:09.000Z" });

    expect((await api.call("POST", "/api/pipelines/999999/cancel", { token: created.token })).status).toBe(404);
    expect((await api.call("GET", "/api/tokens", { token: created.token })).status).toBe(403);

    const listed = await api.call("GET", "/api/tokens");
    const text = await listed.clone().text();
    expect(text).not.toContain(created.token);
    expect(text).not.toContain(hashToken(created.token));
    const { tokens } = (await listed.json()) as { tokens: Array<Record<string, unknown>> };
    const entry = tokens.find((token) => token.id === created.id);
    expect(entry).toEqual({ id: created.id, name: "ci bot", scopes: ["write"], createdAt: expect.any(String), lastUsedAt: expect.any(String), expiresAt: created.expiresAt });
    expect(tokens.map((token) => token.name)).toEqual(expect.arrayContaining(["reader", "writer", "admin", "ci bot"]));
  });

  it("creates a token that never expires", async () => {
    const created = (await json(await api.call("POST", "/api/tokens", { body: { name: "forever", scopes: ["read", "admin"] } }))) as { expiresAt: null; scopes: string[] };
    expect(created.expiresAt).toBeNull();
    expect(created.scopes).toEqual(["read", "admin"]);
  });

  it("revokes a token: it stops working; an unknown id is 404", async () => {
    const created = (await json(await api.call("POST", "/api/tokens", { body: { name: "short-lived", scopes: ["read"] } }))) as { id: number; token: string };
    expect((await api.call("GET", "/api/repositories", { token: created.token })).status).toBe(200);
    const revoked = await api.call("DELETE", `/api/tokens/${created.id}`);
    expect(revoked.status).toBe(204);
    expect(await revoked.text()).toBe("");
    expect((await api.call("GET", "/api/repositories", { token: created.token })).status).toBe(401);
    const again = await api.call("DELETE", `/api/tokens/${created.id}`);
    expect(again.status).toBe(404);
    expect(await errorOf(again)).toEqual({ code: "not_found", message: `token ${created.id} not found` });
  });

  it("answers 400 invalid_request naming the bad field, and creates nothing", async () => {
    const before = ((await json(await api.call("GET", "/api/tokens"))) as { tokens: unknown[] }).tokens.length;
    const cases: Array<[unknown, string]> = [
      [{ scopes: ["read"] }, "name"],
      [{ name: "   ", scopes: ["read"] }, "name"],
      [{ name: "x", scopes: [] }, "scopes"],
      [{ name: "x", scopes: ["read", "root"] }, "scopes.1"],
      [{ name: "x", scopes: ["read"], expiresInDays: 0 }, "expiresInDays"],
      [{ name: "x", scopes: ["read"], expiresInDays: "7" }, "expiresInDays"],
      [{ name: "x", scopes: ["read"], expires: 7 }, "expires"],
    ];
    for (const [body, field] of cases) {
      const response = await api.call("POST", "/api/tokens", { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      const error = await errorOf(response);
      expect(error, JSON.stringify(body)).toMatchObject({ code: "invalid_request", field });
      expect(error.message).toContain(`'${field}'`);
    }
    const badId = await api.call("DELETE", "/api/tokens/0");
    expect(await errorOf(badId)).toMatchObject({ code: "invalid_request", field: "id" });
    expect(((await json(await api.call("GET", "/api/tokens"))) as { tokens: unknown[] }).tokens).toHaveLength(before);
  });
});
