// The administration commands open the same database as `gust serve`: they take its --data-dir
// and --config flags and read the rest (DATABASE_URL, GUST_MASTER_KEY) from the environment.
import { readFileSync } from "node:fs";
import { loadConfig, type GustConfig } from "../../config";
import type { CliContext } from "../context";

export const ADMIN_CONFIG_OPTIONS = {
  "data-dir": { type: "string" },
  config: { type: "string" },
} as const;

export const ADMIN_CONFIG_HELP = `  --data-dir DIR      the data directory of gust serve (default ./.gust)
  --config FILE       gust serve's config file
  With DATABASE_URL set, the PostgreSQL database instead (GUST_MASTER_KEY is then required).`;

export function adminConfig(values: { "data-dir"?: string | undefined; config?: string | undefined }, ctx: CliContext): GustConfig {
  const argv = [...(values["data-dir"] ? ["--data-dir", values["data-dir"]] : []), ...(values.config ? ["--config", values.config] : [])];
  return loadConfig({ argv, env: ctx.env, readFile: (path) => readFileSync(path, "utf8") });
}
