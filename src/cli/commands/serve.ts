// `gust serve`: the service — webhooks in, pipelines queued and run, logs kept — until SIGTERM.
import { readFileSync } from "node:fs";
import { FIELDS, loadConfig, type GustConfig } from "../../config";
import type { CliContext } from "../context";

export const SERVE_HELP = `Usage: gust serve [options]

Runs Gust as a service: webhooks from GitHub and GitLab, a durable job queue, local executor.
With no database URL it keeps everything in an embedded database in the data directory.

Options (each also an environment variable, or a key of the --config file):
${Object.values(FIELDS)
  .filter((field) => field.flag)
  .map((field) => `  --${field.name.padEnd(22)} ${field.env.join(", ")}`)
  .join("\n")}
  --config FILE             a YAML or JSON file with the same keys (GUST_CONFIG)
Secrets (database URL, master key, webhook secrets) come from the environment or the config file only.
`;

export async function serveCommand(argv: string[], ctx: CliContext): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    ctx.stdout(SERVE_HELP);
    return 0;
  }
  const config: GustConfig = loadConfig({ argv, env: ctx.env, readFile: (path) => readFileSync(path, "utf8") });
  const server = await ctx.startServer(config);
  ctx.stderr(`${ctx.errorColors.green("gust serve")} listening on ${server.url} (data in ${config.dataDir}${config.databaseUrl ? ", PostgreSQL" : ", embedded database"})\n`);
  await new Promise<void>((resolve) => {
    const remove = ctx.onInterrupt(() => {
      remove();
      resolve();
    });
  });
  ctx.stderr("stopping: running jobs get the grace period to finish\n");
  await server.stop();
  return 0;
}
