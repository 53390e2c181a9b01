// API tokens for the command line. On the embedded database `gust serve` writes an admin token
// named `local-cli` to <dataDir>/cli-token (mode 0600) at its first start, so a CLI on the same
// machine finds it and just works; with PostgreSQL (a shared, deployed server) nothing is written.
import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import type { GustConfig } from "../config";
import type { ApiTokensStore } from "../store";

export const CLI_TOKEN_FILE = "cli-token";
export const CLI_TOKEN_NAME = "local-cli";

export type CliTokenResult = { written: false; reason: "external_database" | "exists"; path?: string } | { written: true; path: string; id: number };

/**
 * Creates the `local-cli` token and writes it, unless the file exists (a token revoked on purpose
 * is not brought back) or the database is not the embedded one.
 */
export async function ensureCliToken(config: Pick<GustConfig, "dataDir" | "databaseUrl">, tokens: Pick<ApiTokensStore, "createToken" | "revokeToken">): Promise<CliTokenResult> {
  if (config.databaseUrl) return { written: false, reason: "external_database" };
  const path = join(config.dataDir, CLI_TOKEN_FILE);
  if (await exists(path)) return { written: false, reason: "exists", path };
  const created = await tokens.createToken({ name: CLI_TOKEN_NAME, scopes: ["admin"] });
  try {
    const file = await open(path, "wx", 0o600);
    try {
      await file.writeFile(`${created.token}\n`, "utf8");
      await file.sync();
    } finally {
      await file.close();
    }
  } catch (error) {
    // A token nobody can read is only a risk: take it back.
    await tokens.revokeToken(created.id);
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return { written: false, reason: "exists", path };
    throw error;
  }
  return { written: true, path, id: created.id };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}
