// `gust pipelines [REPO]`: the newest pipelines of one repository or of all, as a table.
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { API_HELP, API_OPTIONS, ApiClient, apiSettings, PIPELINE_STATUSES, type Pipeline, type Repository } from "../api-client";
import { parseCommandArgs, positiveInt, UsageError } from "../args";
import type { CliContext } from "../context";
import { pipelinesTable } from "../output/pipeline-table";

export const PIPELINES_HELP = `Usage: gust pipelines [REPO] [options]

Lists pipelines, newest first. REPO is a repository's full name (OWNER/NAME, GROUP/PROJECT), the
path of a local repository, or a repository id; without it, pipelines of every repository.

Options:
  --branch B          only pipelines of this branch
  --status S          only pipelines in this status (repeatable): ${PIPELINE_STATUSES.join(", ")}
  --limit N           how many (default 20)
  --json              the pipelines as JSON
${API_HELP}
`;

/** Pipelines asked for per request; more come by the cursor (the server caps its pages). */
const MAX_PAGE = 100;

const OPTIONS = {
  ...API_OPTIONS,
  branch: { type: "string" },
  status: { type: "string", multiple: true },
  limit: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export async function pipelinesCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, "pipelines");
  if (values.help) {
    ctx.stdout(PIPELINES_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`gust pipelines takes one REPO, got ${positionals.join(" ")}`);
  const statuses = (values.status ?? []).flatMap((value) => value.split(",")).filter((value) => value !== "");
  for (const status of statuses) {
    if (!(PIPELINE_STATUSES as readonly string[]).includes(status)) throw new UsageError(`--status must be one of ${PIPELINE_STATUSES.join(", ")}, got '${status}'`);
  }
  const limit = positiveInt(values.limit, "limit", 20);
  const client = new ApiClient(apiSettings(values, ctx));
  const repository = positionals[0] === undefined ? undefined : await findRepository(client, positionals[0], ctx.cwd);

  // The server may cap a page below --limit: follow the cursor until there are enough.
  const pipelines: Pipeline[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listPipelines({ repository: repository?.id, branch: values.branch, status: statuses, limit: Math.min(limit - pipelines.length, MAX_PAGE), cursor });
    pipelines.push(...page.pipelines.slice(0, limit - pipelines.length));
    cursor = page.nextCursor ?? undefined;
    if (page.pipelines.length === 0) break;
  } while (cursor !== undefined && pipelines.length < limit);

  if (values.json) {
    ctx.stdout(`${JSON.stringify({ pipelines }, null, 2)}\n`);
    return 0;
  }
  if (pipelines.length === 0) {
    ctx.stdout(`${ctx.colors.dim(`no pipelines${repository ? ` in ${repository.fullName}` : ""}${values.branch ? ` on ${values.branch}` : ""}${statuses.length ? ` with status ${statuses.join(" or ")}` : ""}`)}\n`);
    return 0;
  }
  const names = repository ? undefined : new Map((await client.listRepositories()).map((r) => [r.id, r.fullName]));
  ctx.stdout(pipelinesTable(pipelines, ctx.colors, Date.now(), names));
  if (cursor !== undefined) ctx.stdout(ctx.colors.dim(`… older pipelines with --limit ${limit * 2}\n`));
  return 0;
}

/**
 * A repository named on the command line: its id, its full name, or the path of a local
 * repository (registered under its absolute path by `gust repo add local`).
 */
export async function findRepository(client: ApiClient, given: string, cwd: string): Promise<Repository> {
  if (/^[1-9][0-9]*$/.test(given) && !existsSync(resolve(cwd, given))) return client.getRepository(Number(given));
  const looksLikePath = isAbsolute(given) || given.startsWith(".");
  if (!looksLikePath) {
    const [byName] = await client.listRepositories(given);
    if (byName) return byName;
  }
  const path = resolve(cwd, given);
  if (looksLikePath || existsSync(path)) {
    const [byPath] = await client.listRepositories(path);
    if (byPath) return byPath;
  }
  throw new UsageError(`no repository '${given}'${looksLikePath || existsSync(path) ? ` (looked for the local repository ${path})` : ""}; gust repo list shows them`);
}
