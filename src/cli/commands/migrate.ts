// `gust migrate`: applies the SQL migrations to gust serve's database and says how many ran.
// `gust serve` applies them at start too; this is for a deployment's migration Job (run it before
// rolling out replicas of a new version) and for checking a database by hand.
import { parseCommandArgs } from "../args";
import type { CliContext } from "../context";
import { ADMIN_CONFIG_HELP, ADMIN_CONFIG_OPTIONS, adminConfig } from "./admin-config";

export const MIGRATE_HELP = `Usage: gust migrate [options]
Applies the migrations of this version of Gust to its database (safe to run again, and from several
replicas at once: they take turns).

Options:
${ADMIN_CONFIG_HELP}
`;

const OPTIONS = { ...ADMIN_CONFIG_OPTIONS, help: { type: "boolean", short: "h" } } as const;

export async function migrateCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS, "migrate");
  if (values.help) {
    ctx.stdout(MIGRATE_HELP);
    return 0;
  }
  const config = adminConfig(values, ctx);
  const { applied, total } = await ctx.migrate(config);
  const where = config.databaseUrl ? "the PostgreSQL database" : `the embedded database in ${config.dataDir}`;
  const what = applied === 0 ? "already up to date" : `applied ${applied} migration${applied === 1 ? "" : "s"}`;
  ctx.stdout(`${ctx.colors.green("✔")} ${where}: ${what} (${total} in all)\n`);
  return 0;
}
