// The `gust` command: dispatches to a subcommand and turns errors into messages and exit codes.
import { isGustError } from "../errors";
import { UsageError } from "./args";
import { runCommand, RUN_HELP } from "./commands/run";
import { schemaCommand } from "./commands/schema";
import { repoCommand } from "./commands/repo";
import { secretCommand } from "./commands/secret";
import { serveCommand } from "./commands/serve";
import { validateCommand } from "./commands/validate";
import type { CliContext } from "./context";

const VERSION = "0.1.0";

export const HELP = `gust ${VERSION} — serverless CI/CD

Usage: gust <command> [options]

Commands:
  run [dir]         run a repository's pipelines locally (no server, no database)
  validate [file]   check pipeline files and print their plan
  schema            print the JSON Schema of pipeline files
  serve             run the service: webhooks, queue, scheduler, logs
  repo add|list     repositories gust serve builds (credentials, webhook secrets)
  secret set|list|delete   pipeline secrets of a repository

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
      case "repo":
        return await repoCommand(rest, ctx);
      case "secret":
        return await secretCommand(rest, ctx);
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
