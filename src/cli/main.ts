// The `gust` command: dispatches to a subcommand and turns errors into messages and exit codes.
import { isGustError } from "../errors";
import { UsageError } from "./args";
import { runCommand, RUN_HELP } from "./commands/run";
import { schemaCommand } from "./commands/schema";
import { repoCommand } from "./commands/repo";
import { migrateCommand } from "./commands/migrate";
import { secretCommand } from "./commands/secret";
import { tokenCommand } from "./commands/token";
import { serveCommand } from "./commands/serve";
import { validateCommand } from "./commands/validate";
import { cancelCommand } from "./commands/cancel";
import { logsCommand } from "./commands/logs";
import { pipelineCommand } from "./commands/pipeline";
import { pipelinesCommand } from "./commands/pipelines";
import { releaseCommand } from "./commands/release";
import { retryCommand } from "./commands/retry";
import { triggerCommand } from "./commands/trigger";
import type { CliContext } from "./context";

const VERSION = "0.1.0";

export const HELP = `gust ${VERSION} — serverless CI/CD

Usage: gust <command> [options]

Commands:
  run [dir]         run a repository's pipelines locally (no server, no database)
  validate [file]   check pipeline files and print their plan
  schema            print the JSON Schema of pipeline files
  serve             run the service: webhooks, queue, scheduler, logs
  migrate           apply the database migrations (serve does it at start too)
  repo add|list     repositories gust serve builds (credentials, webhook secrets)
  secret set|list|delete   pipeline secrets of a repository
  token create|list|revoke API tokens (gust serve's database directly)
  pipelines [REPO]  recent pipelines on gust serve (these commands talk to its API)
  pipeline ID       a pipeline and its jobs
  trigger REPO      run a repository's manual pipelines (--follow to watch them)
  logs JOB_ID       a job's log (-f to follow it live)
  cancel ID         cancel a pipeline
  retry ID          run a pipeline again (--failed: only its failed jobs)
  release list|status ID|promote ID|pause ID|resume ID|abort ID|rollback ID
                    releases: traffic moving onto new versions (status --watch to follow one)

Run 'gust <command> --help' for a command's options.
`;

export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "run":
        return await runCommand(rest, ctx);
      case "validate":
        return await validateCommand(rest, ctx);
      case "schema":
        return schemaCommand(rest, ctx);
      case "serve":
        return await serveCommand(rest, ctx);
      case "migrate":
        return await migrateCommand(rest, ctx);
      case "repo":
        return await repoCommand(rest, ctx);
      case "secret":
        return await secretCommand(rest, ctx);
      case "token":
        return await tokenCommand(rest, ctx);
      case "pipelines":
        return await pipelinesCommand(rest, ctx);
      case "pipeline":
        return await pipelineCommand(rest, ctx);
      case "trigger":
        return await triggerCommand(rest, ctx);
      case "logs":
        return await logsCommand(rest, ctx);
      case "cancel":
        return await cancelCommand(rest, ctx);
      case "retry":
        return await retryCommand(rest, ctx);
      case "release":
        return await releaseCommand(rest, ctx);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        ctx.stdout(rest[0] === "run" ? RUN_HELP : HELP);
        return 0;
      case "version":
      case "--version":
      case "-v":
        ctx.stdout(`${VERSION}\n`);
        return 0;
      default:
        throw new UsageError(`unknown command '${command}'\n\n${HELP}`);
    }
  } catch (error) {
    if (isGustError(error) && (error.fault === "user" || error.fault === "infrastructure")) {
      ctx.stderr(`${ctx.errorColors.red("error")}: ${error.message}\n`);
      return error instanceof UsageError ? 2 : 1;
    }
    ctx.stderr(`${ctx.errorColors.red("internal error")}: ${(error as Error).stack ?? String(error)}\n`);
    return 70;
  }
}
