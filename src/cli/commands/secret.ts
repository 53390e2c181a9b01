// `gust secret set REPO NAME` (value on standard input, never on the command line),
// `gust secret list REPO`, `gust secret delete REPO NAME`.
import { parseCommandArgs, UsageError } from "../args";
import type { CliContext } from "../context";
import { ADMIN_CONFIG_HELP, ADMIN_CONFIG_OPTIONS, adminConfig } from "./admin-config";

export const SECRET_HELP = `Usage:
  gust secret set REPO NAME      the value is read from standard input
  gust secret list REPO
  gust secret delete REPO NAME
REPO is a repository id or its full name (as gust repo list shows).

Options:
${ADMIN_CONFIG_HELP}
`;

const OPTIONS = { ...ADMIN_CONFIG_OPTIONS, help: { type: "boolean", short: "h" } } as const;

export async function secretCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, "secret");
  const [action, repo, name] = positionals;
  if (values.help || !action) {
    ctx.stdout(SECRET_HELP);
    return values.help ? 0 : 2;
  }
  if (!repo) throw new UsageError(`gust secret ${action} needs a repository`);
  if ((action === "set" || action === "delete") && (!name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))) {
    throw new UsageError(`gust secret ${action} needs a NAME of letters, digits and '_'`);
  }
  const value = action === "set" ? (await ctx.readStdin()).replace(/\r?\n$/, "") : undefined;
  if (action === "set" && !value) throw new UsageError("no value on standard input (e.g. printf %s \"$VALUE\" | gust secret set …)");

  const admin = await ctx.openAdmin(adminConfig(values, ctx));
  try {
    const all = await admin.repositories.listRepositories();
    const repository = all.find((r) => String(r.id) === repo || r.fullName === repo);
    if (!repository) throw new UsageError(`no repository '${repo}' (gust repo list)`);
    switch (action) {
      case "set":
        await admin.repositories.setSecret(repository.id, name!, value!);
        ctx.stdout(`${ctx.colors.green("✔")} secret ${name} set for ${repository.fullName}\n`);
        return 0;
      case "delete":
        if (!(await admin.repositories.deleteSecret(repository.id, name!))) throw new UsageError(`${repository.fullName} has no secret ${name}`);
        ctx.stdout(`${ctx.colors.green("✔")} secret ${name} deleted from ${repository.fullName}\n`);
        return 0;
      case "list":
        for (const secret of await admin.repositories.listSecrets(repository.id)) ctx.stdout(`${secret.name}\n`);
        return 0;
      default:
        throw new UsageError(`unknown action '${action}': use set, list or delete`);
    }
  } finally {
    await admin.close();
  }
}
