// `gust repo add | list`: the repositories Gust builds, with their credentials and webhook secrets.
// Tokens and secrets are read from environment variables, never from the command line (which every
// user of the machine can read).
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import type { GustConfig } from "../../config";
import { isGustError } from "../../errors";
import { ApiClient, apiSettings } from "../api-client";
import { parseCommandArgs, UsageError } from "../args";
import type { CliContext } from "../context";
import { ADMIN_CONFIG_HELP, ADMIN_CONFIG_OPTIONS, adminConfig } from "./admin-config";

export const REPO_HELP = `Usage:
  gust repo add github OWNER/NAME [--token-env VAR | --app-id ID --private-key-file F] [--api-url URL]
  gust repo add gitlab GROUP/PROJECT [--token-env VAR] [--url BASE]
  gust repo add local PATH
  gust repo list

Options:
  --token-env VAR          environment variable holding the token (default GITHUB_TOKEN / GITLAB_TOKEN)
  --app-id ID              GitHub App id (with --private-key-file)
  --private-key-file F     the GitHub App's private key (PEM)
  --api-url URL, --url URL API base for GitHub Enterprise or a self-managed GitLab
  --webhook-secret-env VAR environment variable holding a webhook secret (repeatable, for rotation;
                           default: a new random secret, printed once)
  --clone-url URL          where jobs clone the code from (default: the forge's usual URL)
  --max-jobs N             jobs of this repository running at once
${ADMIN_CONFIG_HELP}
`;

const OPTIONS = {
  ...ADMIN_CONFIG_OPTIONS,
  "token-env": { type: "string" },
  "app-id": { type: "string" },
  "private-key-file": { type: "string" },
  "api-url": { type: "string" },
  url: { type: "string" },
  "webhook-secret-env": { type: "string", multiple: true },
  "clone-url": { type: "string" },
  "max-jobs": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export async function repoCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, "repo");
  if (values.help || positionals.length === 0) {
    ctx.stdout(REPO_HELP);
    return values.help ? 0 : 2;
  }
  const [action, forge, name] = positionals;
  const config = adminConfig(values, ctx);
  if (action === "list") {
    const admin = await ctx.openAdmin(config);
    try {
      for (const repository of await admin.repositories.listRepositories()) {
        ctx.stdout(`${String(repository.id).padStart(4)}  ${repository.forge.padEnd(7)} ${repository.fullName}${repository.hasCredentials ? "" : ctx.colors.dim("  (no credentials)")}\n`);
      }
    } finally {
      await admin.close();
    }
    return 0;
  }
  if (action !== "add") throw new UsageError(`unknown action '${action}': use add or list`);
  if (forge !== "github" && forge !== "gitlab" && forge !== "local") throw new UsageError(`unknown forge '${forge ?? ""}': use github, gitlab or local`);
  if (!name) throw new UsageError(`gust repo add ${forge} needs ${forge === "local" ? "a PATH" : forge === "github" ? "OWNER/NAME" : "GROUP/PROJECT"}`);
  if (forge !== "local" && !/^[\w.-]+(\/[\w.-]+)+$/.test(name)) throw new UsageError(`'${name}' is not a ${forge} repository name`);

  const credentials = forge === "local" ? undefined : await readCredentials(forge, values, ctx);
  const fromEnv = (values["webhook-secret-env"] ?? []).map((variable) => requireEnv(ctx, variable));
  const generated = forge !== "local" && fromEnv.length === 0 ? randomBytes(24).toString("base64url") : undefined;
  const maxJobs = values["max-jobs"] === undefined ? undefined : Number(values["max-jobs"]);
  if (maxJobs !== undefined && (!Number.isInteger(maxJobs) || maxJobs < 1)) throw new UsageError(`--max-jobs expects a whole number of at least 1`);

  const input = {
    forge,
    fullName: forge === "local" ? resolve(ctx.cwd, name) : name,
    ...(values["api-url"] ?? values.url ? { apiUrl: values["api-url"] ?? values.url } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
    ...(forge !== "local" ? { webhookSecrets: generated ? [generated] : fromEnv } : {}),
    ...(maxJobs !== undefined ? { maxConcurrentJobs: maxJobs } : {}),
  };
  const repository = await register(input, values["clone-url"], config, values["data-dir"], ctx);
  ctx.stdout(`${ctx.colors.green("✔")} added ${forge} repository ${repository.fullName} (id ${repository.id})\n`);
  if (forge !== "local") {
    ctx.stdout(`  webhook URL:    <public URL>/hooks/${forge}/${repository.id}\n`);
    if (generated) ctx.stdout(`  webhook secret: ${generated}   (shown once; set it in the ${forge === "github" ? "webhook" : "project hook's secret token"})\n`);
    ctx.stdout(`  events:         ${forge === "github" ? "push, pull_request" : "Push events, Tag push events, Merge request events"}\n`);
  }
  return 0;
}

type NewRepositoryInput = { forge: string; fullName: string; apiUrl?: string; credentials?: unknown; webhookSecrets?: string[]; maxConcurrentJobs?: number };

/**
 * Straight into the database; while a running `gust serve` holds the embedded database, through
 * its API instead (with the admin token it wrote to the data directory).
 */
async function register(input: NewRepositoryInput, cloneUrl: string | undefined, config: GustConfig, dataDir: string | undefined, ctx: CliContext): Promise<{ id: number; fullName: string }> {
  let admin: Awaited<ReturnType<CliContext["openAdmin"]>>;
  try {
    admin = await ctx.openAdmin(config);
  } catch (error) {
    if (!isGustError(error) || error.code !== "data_dir_in_use") throw error;
    const settings = apiSettings({ "data-dir": dataDir, ...(ctx.env.GUST_SERVER ? {} : { server: `http://127.0.0.1:${config.port}` }) }, ctx);
    ctx.stderr(`${ctx.colors.dim(`the data directory is in use by gust serve: registering through its API at ${settings.baseUrl}`)}\n`);
    return new ApiClient(settings).createRepository({ ...input, ...(cloneUrl ? { cloneUrl } : {}) });
  }
  try {
    return await admin.repositories.createRepository({ ...input, ...(cloneUrl ? { settings: { cloneUrl } } : {}) });
  } finally {
    await admin.close();
  }
}

async function readCredentials(forge: "github" | "gitlab", values: { "token-env"?: string | undefined; "app-id"?: string | undefined; "private-key-file"?: string | undefined }, ctx: CliContext): Promise<unknown> {
  if (values["app-id"] !== undefined || values["private-key-file"] !== undefined) {
    if (forge !== "github") throw new UsageError("--app-id and --private-key-file are for GitHub Apps");
    if (!values["app-id"] || !values["private-key-file"]) throw new UsageError("a GitHub App needs both --app-id and --private-key-file");
    const { readFile } = await import("node:fs/promises");
    const privateKey = await readFile(resolve(ctx.cwd, values["private-key-file"]), "utf8").catch(() => {
      throw new UsageError(`--private-key-file ${values["private-key-file"]}: cannot read it`);
    });
    return { appId: values["app-id"], privateKey };
  }
  const variable = values["token-env"] ?? (forge === "github" ? "GITHUB_TOKEN" : "GITLAB_TOKEN");
  return { token: requireEnv(ctx, variable) };
}

function requireEnv(ctx: CliContext, variable: string): string {
  const value = ctx.env[variable];
  if (!value) throw new UsageError(`environment variable ${variable} is not set`);
  return value;
}
