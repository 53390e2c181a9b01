// The key that seals secrets and credentials: from the configuration, or — embedded, one machine —
// a key file created in the data directory on first start.
import { join } from "node:path";
import type { GustConfig } from "../config";
import { InputError } from "../errors";
import { loadOrCreateKeyFile } from "../store";

export async function masterKey(config: GustConfig, onCreated: (path: string) => void): Promise<Buffer> {
  if (config.masterKey) return config.masterKey;
  if (config.databaseUrl) {
    throw new InputError("GUST_MASTER_KEY (or --master-key-file) is required with DATABASE_URL: every replica must seal secrets with the same key", "no_master_key");
  }
  const path = join(config.dataDir, "master.key");
  const { key, created } = await loadOrCreateKeyFile(path);
  if (created) onCreated(path);
  return key;
}
