// What the `gust serve` end-to-end tests share: a GitHub repository registered the way
// `gust repo add` does it (before the server opens the embedded database), and a quiet config.
import { join } from "node:path";
import { loadConfig, type GustConfig } from "../../src/config";
import { applyMigrations, loadOrCreateKeyFile, openDatabase, RepositoriesStore, Sealer } from "../../src/store";

export interface GithubRepositoryFixture {
  dataDir: string;
  /** PostgreSQL instead of the embedded database in dataDir. */
  databaseUrl?: string;
  fullName: string;
  /** The GitHub API stand-in's base URL. */
  apiUrl: string;
  /** Where jobs clone from: a local git repository. */
  cloneUrl: string;
  token: string;
  secrets?: Record<string, string>;
}

/** Registers the repository with its token (sealed with `<dataDir>/master.key`); resolves with its id. */
export async function registerGithubRepository(fixture: GithubRepositoryFixture): Promise<number> {
  const database = await openDatabase(fixture.databaseUrl ? { url: fixture.databaseUrl } : { dataDir: fixture.dataDir });
  try {
    await applyMigrations(database);
    const repositories = new RepositoriesStore(database, new Sealer((await loadOrCreateKeyFile(join(fixture.dataDir, "master.key"))).key));
    const repository = await repositories.createRepository({ forge: "github", fullName: fixture.fullName, apiUrl: fixture.apiUrl, settings: { cloneUrl: fixture.cloneUrl } });
    await repositories.setCredentials(repository.id, { token: fixture.token });
    for (const [name, value] of Object.entries(fixture.secrets ?? {})) await repositories.setSecret(repository.id, name, value);
    return repository.id;
  } finally {
    await database.close();
  }
}

/** The config of an in-process server on a free loopback port, silent, with no config file. */
export function serveConfig(dataDir: string, options: { argv?: string[]; env?: Record<string, string> } = {}): GustConfig {
  return loadConfig({
    argv: ["--data-dir", dataDir, "--port", "0", "--host", "127.0.0.1", ...(options.argv ?? [])],
    env: { GUST_LOG_LEVEL: "silent", ...options.env },
    readFile: () => {
      throw new Error("no config file");
    },
  });
}
