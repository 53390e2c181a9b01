// API tokens: shown once, stored as SHA-256, verified to their scopes, last use written at most
// once a minute, expired and revoked tokens refused.
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { ApiTokensStore, hashToken } from "../../src/store/api-tokens-store";
import { apiTokens } from "../../src/store/schema";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";

describe.each(DATABASE_KINDS)("API tokens (%s)", (kind) => {
  const test = useTestDatabase(kind);
  const store = () => new ApiTokensStore(test.database);
  const lastUsed = async (id: number) => (await test.database.db.select().from(apiTokens).where(eq(apiTokens.id, id)))[0]!.lastUsedAt;

  it("creates a token shown once and stores only its hash", async () => {
    const created = await store().createToken({ name: "ci", scopes: ["read", "write", "read"] });
    expect(created.token).toMatch(/^gust_[A-Za-z0-9_-]{43}$/);
    expect(created.scopes).toEqual(["read", "write"]);
    const [row] = await test.database.db.select().from(apiTokens).where(eq(apiTokens.id, created.id));
    expect(row!.tokenHash).toBe(hashToken(created.token));
    expect(JSON.stringify(row)).not.toContain(created.token);
    expect((await store().listTokens()).find((token) => token.id === created.id)).not.toHaveProperty("token");
  });

  it("verifies a token to its scopes and refuses anything else", async () => {
    const created = await store().createToken({ name: "admin", scopes: ["admin"] });
    expect(await store().verifyToken(created.token)).toEqual({ id: created.id, name: "admin", scopes: ["admin"] });
    expect(await store().verifyToken(`${created.token}x`)).toBeUndefined();
    expect(await store().verifyToken("gust_unknown")).toBeUndefined();
    expect(await store().verifyToken("not-even-prefixed")).toBeUndefined();
  });

  it("writes last_used_at at most once a minute", async () => {
    const created = await store().createToken({ name: "touch", scopes: ["read"] });
    expect(await lastUsed(created.id)).toBeNull();
    const t0 = new Date("2030-01-01T00:00:00Z");
    await store().verifyToken(created.token, t0);
    expect(await lastUsed(created.id)).toEqual(t0);
    await store().verifyToken(created.token, new Date(t0.getTime() + 30_000));
    expect(await lastUsed(created.id)).toEqual(t0);
    const later = new Date(t0.getTime() + 61_000);
    await store().verifyToken(created.token, later);
    expect(await lastUsed(created.id)).toEqual(later);
  });

  it("refuses expired and revoked tokens", async () => {
    const expiring = await store().createToken({ name: "short", scopes: ["read"], expiresAt: new Date("2030-01-01T00:00:00Z") });
    expect(await store().verifyToken(expiring.token, new Date("2029-12-31T23:59:59Z"))).toBeDefined();
    expect(await store().verifyToken(expiring.token, new Date("2030-01-01T00:00:00Z"))).toBeUndefined();

    const revoked = await store().createToken({ name: "gone", scopes: ["write"] });
    expect(await store().revokeToken(revoked.id)).toBe(true);
    expect(await store().verifyToken(revoked.token)).toBeUndefined();
    expect(await store().revokeToken(revoked.id)).toBe(false);
  });

  it("refuses unknown or missing scopes and an empty name", async () => {
    await expect(store().createToken({ name: "x", scopes: [] })).rejects.toMatchObject({ code: "invalid_token_scopes" });
    await expect(store().createToken({ name: "x", scopes: ["root" as "admin"] })).rejects.toMatchObject({ code: "invalid_token_scopes" });
    await expect(store().createToken({ name: " ", scopes: ["read"] })).rejects.toMatchObject({ code: "invalid_token_name" });
  });
});
