// Direct database access for the administration commands (`gust repo`, `gust secret`): the same
// database, migrations and master key as `gust serve`. With the embedded database the server must
// be stopped first (the data directory is locked by one process at a time).
import type { GustConfig } from "../config";
import { ApiTokensStore, appliedMigrationCount, applyMigrations, openDatabase, RepositoriesStore, Sealer } from "../store";
import { masterKey } from "./master-key";

export interface AdminSession {
  repositories: RepositoriesStore;
  /** API tokens (`gust token`). */
  tokens: ApiTokensStore;
  close(): Promise<void>;
}

export async function openAdmin(config: GustConfig, warn: (text: string) => void): Promise<AdminSession> {
  const database = await openDatabase(config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir });
  try {
    await applyMigrations(database);
    const key = await masterKey(config, (path) => warn(`generated a master key in ${path}; back it up — without it stored secrets cannot be read`));
    return { repositories: new RepositoriesStore(database, new Sealer(key)), tokens: new ApiTokensStore(database), close: () => database.close() };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** `gust migrate`: how many migrations this call applied, and how many the database has in all. */
export async function migrateDatabase(config: GustConfig): Promise<{ applied: number; total: number }> {
  const database = await openDatabase(config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir });
  try {
    const before = await appliedMigrationCount(database);
    await applyMigrations(database);
    const total = await appliedMigrationCount(database);
    return { applied: total - before, total };
  } finally {
    await database.close();
  }
}

