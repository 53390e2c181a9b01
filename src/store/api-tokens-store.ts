// API tokens: `gust_` + 32 random bytes (base64url), shown once at creation. Only the SHA-256 is
// stored; a token has enough entropy that a plain hash (no salt, no slow KDF) is safe, and it lets
// verification be one indexed lookup.
import { createHash, randomBytes } from "node:crypto";
import { asc, eq, sql } from "drizzle-orm";
import { InputError } from "../errors";
import type { Database, Db } from "./database";
import { apiTokens } from "./schema";
import { run } from "./transaction";

export const TOKEN_SCOPES = ["read", "write", "admin"] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

const PREFIX = "gust_";
/** last_used_at is for people ("used 3 days ago"): writing it on every request is not worth a write. */
const TOUCH_INTERVAL_MS = 60_000;

export interface NewApiToken {
  name: string;
  scopes: TokenScope[];
  expiresAt?: Date | null;
}

export interface ApiTokenInfo {
  id: number;
  name: string;
  scopes: TokenScope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
}

export interface VerifiedToken {
  id: number;
  name: string;
  scopes: TokenScope[];
}

export class ApiTokensStore {
  private readonly db: Db;

  constructor(database: Pick<Database, "db">) {
    this.db = database.db;
  }

  /** The plain token is in the result and nowhere else: it cannot be shown again. */
  async createToken(input: NewApiToken): Promise<ApiTokenInfo & { token: string }> {
    if (input.name.trim() === "") throw new InputError("a token needs a name", "invalid_token_name");
    const unknown = input.scopes.filter((scope) => !(TOKEN_SCOPES as readonly string[]).includes(scope));
    if (unknown.length > 0 || input.scopes.length === 0) {
      throw new InputError(`token scopes: expected some of ${TOKEN_SCOPES.join(", ")}, got ${input.scopes.join(", ") || "none"}`, "invalid_token_scopes");
    }
    const token = PREFIX + randomBytes(32).toString("base64url");
    const [row] = await run(() =>
      this.db
        .insert(apiTokens)
        .values({ name: input.name, tokenHash: hashToken(token), scopes: [...new Set(input.scopes)], expiresAt: input.expiresAt ?? null })
        .returning(),
    );
    return { ...toInfo(row!), token };
  }

  /** The token's scopes, or undefined when it is unknown, revoked or expired. */
  async verifyToken(token: string, now: Date = new Date()): Promise<VerifiedToken | undefined> {
    if (!token.startsWith(PREFIX)) return undefined;
    const [row] = await run(() => this.db.select().from(apiTokens).where(eq(apiTokens.tokenHash, hashToken(token))));
    if (!row) return undefined;
    if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) return undefined;
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= TOUCH_INTERVAL_MS) {
      // Conditional, so replicas verifying the same token at once write it once.
      await run(() =>
        this.db
          .update(apiTokens)
          .set({ lastUsedAt: now })
          .where(
            sql`${apiTokens.id} = ${row.id} and (${apiTokens.lastUsedAt} is null or ${apiTokens.lastUsedAt} <= ${new Date(now.getTime() - TOUCH_INTERVAL_MS).toISOString()}::timestamptz)`,
          ),
      );
    }
    return { id: row.id, name: row.name, scopes: row.scopes as TokenScope[] };
  }

  async listTokens(): Promise<ApiTokenInfo[]> {
    const rows = await run(() => this.db.select().from(apiTokens).orderBy(asc(apiTokens.id)));
    return rows.map(toInfo);
  }

  async revokeToken(id: number): Promise<boolean> {
    const rows = await run(() => this.db.delete(apiTokens).where(eq(apiTokens.id, id)).returning({ id: apiTokens.id }));
    return rows.length > 0;
  }
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

function toInfo(row: typeof apiTokens.$inferSelect): ApiTokenInfo {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes as TokenScope[],
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    expiresAt: row.expiresAt,
  };
}
