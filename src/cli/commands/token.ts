// `gust token create | list | revoke`: API tokens, on gust serve's database directly (like
// `gust repo`). A new token is printed once, alone on standard output, so a script can take it:
// TOKEN=$(gust token create --name deploy --scope write).
import { parseCommandArgs, positiveInt, UsageError } from "../args";
import type { CliContext } from "../context";
import { ADMIN_CONFIG_HELP, ADMIN_CONFIG_OPTIONS, adminConfig } from "./admin-config";

export const TOKEN_HELP = `Usage:
  gust token create --name NAME [--scope read|write|admin]... [--expires-in-days D]
  gust token list
  gust token revoke ID

Scopes: read (look at pipelines, jobs, logs), write (also trigger, cancel, retry), admin (also
manage tokens). Default: read. The new token is printed once on standard output.

Options:
  --name NAME             what the token is for
  --scope SCOPE           repeatable
  --expires-in-days D     the token stops working after D days (default: never)
${ADMIN_CONFIG_HELP}
`;

const SCOPES = ["read", "write", "admin"] as const;
type Scope = (typeof SCOPES)[number];

const OPTIONS = {
  ...ADMIN_CONFIG_OPTIONS,
  name: { type: "string" },
  scope: { type: "string", multiple: true },
  "expires-in-days": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const DAY_MS = 24 * 60 * 60 * 1000;

export async function tokenCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, "token");
  const [action, id] = positionals;
  if (values.help || !action) {
    ctx.stdout(TOKEN_HELP);
    return values.help ? 0 : 2;
  }
  if (action !== "create" && action !== "list" && action !== "revoke") throw new UsageError(`unknown action '${action}': use create, list or revoke`);
  if (action === "create" && !values.name?.trim()) throw new UsageError("gust token create needs --name NAME");
  const scopes = (values.scope ?? ["read"]).map((scope): Scope => {
    if (!(SCOPES as readonly string[]).includes(scope)) throw new UsageError(`--scope must be one of ${SCOPES.join(", ")}, got '${scope}'`);
    return scope as Scope;
  });
  const days = values["expires-in-days"] === undefined ? undefined : positiveInt(values["expires-in-days"], "expires-in-days", 1);
  if (action === "revoke" && (id === undefined || !/^[1-9][0-9]{0,14}$/.test(id))) throw new UsageError("gust token revoke needs the token's ID (gust token list)");

  const session = await ctx.openAdmin(adminConfig(values, ctx));
  try {
    switch (action) {
      case "create": {
        const expiresAt = days === undefined ? null : new Date(Date.now() + days * DAY_MS);
        const created = await session.tokens.createToken({ name: values.name!.trim(), scopes, expiresAt });
        ctx.stderr(`${ctx.errorColors.green("✔")} created token ${created.id} '${created.name}' (${created.scopes.join(", ")}${expiresAt ? `, expires ${minutes(expiresAt)}` : ""}); it is shown this once\n`);
        ctx.stdout(`${created.token}\n`);
        return 0;
      }
      case "list":
        for (const token of await session.tokens.listTokens()) {
          const used = token.lastUsedAt ? `used ${minutes(token.lastUsedAt)}` : "never used";
          const expires = token.expiresAt ? `  expires ${minutes(token.expiresAt)}` : "";
          ctx.stdout(`${String(token.id).padStart(4)}  ${token.name.padEnd(16)} ${token.scopes.join(",").padEnd(17)} ${ctx.colors.dim(`created ${minutes(token.createdAt)}  ${used}${expires}`)}\n`);
        }
        return 0;
      case "revoke":
        if (!(await session.tokens.revokeToken(Number(id)))) throw new UsageError(`no token ${id} (gust token list)`);
        ctx.stdout(`${ctx.colors.green("✔")} token ${id} revoked\n`);
        return 0;
    }
  } finally {
    await session.close();
  }
}

/** `2025-03-14 09:26` in UTC: enough to tell tokens apart, short enough for a table. */
function minutes(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
