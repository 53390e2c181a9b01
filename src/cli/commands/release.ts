// `gust release list|status|promote|pause|resume|abort|rollback`: releases on gust serve, where one
// stands (and --watch until it ends), and the commands people give a release. A command the release
// cannot take now is refused by the server (409) with the reason, printed as the error.
import { setTimeout as sleep } from "node:timers/promises";
import { API_HELP, API_OPTIONS, ApiClient, ApiError, apiSettings, idArgument, type Release, type ReleaseCommand, type ReleaseDetail } from "../api-client";
import { parseCommandArgs, positiveInt, UsageError, type OptionSpec } from "../args";
import type { CliContext } from "../context";
import { releaseChanges, releaseOutcome, releaseStatus } from "../output/release-status";
import { FINAL_RELEASE_PHASES, releasesTable } from "../output/release-table";
import { untilInterrupted } from "./logs";
import { findRepository } from "./pipelines";

export const RELEASE_HELP = `Usage: gust release <command> [options]

Releases move traffic onto a pipeline's new version step by step (the release: section of the
pipeline file). These commands talk to gust serve's API.

Commands:
  list                list releases, newest first
      --repo REPO       only releases of this repository (OWNER/NAME, a local path, or an id)
      --active          only releases that have not finished
      --target T        only releases to this target, as listed ("local :8080")
      --limit N         how many (default 20)
      --json            the releases as JSON
  status ID           where a release stands: traffic, steps, analysis, history
      --watch           look again every 2 s until the release ends; exits 0 when it was
                        promoted, 1 otherwise
      --interval S      seconds between looks with --watch (default 2)
      --json            the release as JSON
  promote ID          past the current step (a pause or an analysis ends)
      --full            past every step: the new version takes all traffic
  pause ID            keep traffic where it is until resumed or promoted
  resume ID           carry on after a pause (by a person, a pause step or analysis)
  abort ID            send traffic back to the version before; the release ends aborted
  rollback ID         send traffic back to the version before; the release ends rolled back

A command is applied within moments by the server ticking the release; one that cannot apply
now (the release is still publishing, or already ended) exits 1 with the reason.

Options of every command:
${API_HELP}
`;

const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const satisfies OptionSpec;
const LIST_OPTIONS = { ...API_OPTIONS, ...HELP_OPTION, repo: { type: "string" }, active: { type: "boolean" }, target: { type: "string" }, limit: { type: "string" }, json: { type: "boolean" } } as const;
const STATUS_OPTIONS = { ...API_OPTIONS, ...HELP_OPTION, watch: { type: "boolean", short: "w" }, interval: { type: "string" }, json: { type: "boolean" } } as const;
const PROMOTE_OPTIONS = { ...API_OPTIONS, ...HELP_OPTION, full: { type: "boolean" } } as const;
const COMMAND_OPTIONS = { ...API_OPTIONS, ...HELP_OPTION } as const;

/** Releases asked for per request; more come by the cursor. */
const MAX_PAGE = 100;
const DEFAULT_INTERVAL_S = 2;

const ASKED: Record<ReleaseCommand, string> = {
  promote: "to promote past its current step",
  "promote-full": "to promote fully: the new version takes all traffic",
  pause: "to pause: traffic stays where it is",
  resume: "to resume",
  abort: "to abort: traffic goes back to the version before",
  rollback: "to roll back: traffic goes back to the version before",
};

export async function releaseCommand(argv: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case "list":
      return listReleases(rest, ctx);
    case "status":
      return releaseStatusCommand(rest, ctx);
    case "promote":
    case "pause":
    case "resume":
    case "abort":
    case "rollback":
      return giveCommand(sub, rest, ctx);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      ctx.stdout(RELEASE_HELP);
      return 0;
    default:
      throw new UsageError(`unknown release command '${sub}': list, status, promote, pause, resume, abort or rollback\nrun 'gust release --help' for the options`);
  }
}

async function listReleases(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, LIST_OPTIONS, "release list");
  if (values.help) return help(ctx);
  if (positionals.length > 0) throw new UsageError(`gust release list takes no arguments, got ${positionals.join(" ")}; use --repo REPO`);
  if (values.target === "") throw new UsageError("--target expects a target as gust release list shows it, such as 'local :8080'");
  const limit = positiveInt(values.limit, "limit", 20);
  const client = new ApiClient(apiSettings(values, ctx));
  const repository = values.repo === undefined ? undefined : await findRepository(client, values.repo, ctx.cwd);

  const releases: Release[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listReleases({ repository: repository?.id, target: values.target, active: values.active, limit: Math.min(limit - releases.length, MAX_PAGE), cursor });
    releases.push(...page.releases.slice(0, limit - releases.length));
    cursor = page.nextCursor ?? undefined;
    if (page.releases.length === 0) break;
  } while (cursor !== undefined && releases.length < limit);

  if (values.json) {
    ctx.stdout(`${JSON.stringify({ releases }, null, 2)}\n`);
    return 0;
  }
  if (releases.length === 0) {
    const filters = [repository ? `of ${repository.fullName}` : "", values.target ? `to ${values.target}` : ""].filter(Boolean).join(" ");
    ctx.stdout(`${ctx.colors.dim(`no ${values.active ? "active " : ""}releases${filters ? ` ${filters}` : ""}`)}\n`);
    return 0;
  }
  ctx.stdout(releasesTable(releases, ctx.colors, Date.now()));
  if (cursor !== undefined) ctx.stdout(ctx.colors.dim(`… older releases with --limit ${limit * 2}\n`));
  return 0;
}

async function releaseStatusCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, STATUS_OPTIONS, "release status");
  if (values.help) return help(ctx);
  if (positionals.length > 1) throw new UsageError(`gust release status takes one ID, got ${positionals.join(" ")}`);
  const id = idArgument(positionals[0], "release ID", "release status");
  if (values.json && values.watch) throw new UsageError("--json shows the release once; leave out --watch");
  const intervalMs = seconds(values.interval, "interval", DEFAULT_INTERVAL_S) * 1000;
  const client = new ApiClient(apiSettings(values, ctx));
  let release = await client.getRelease(id);
  if (values.json) {
    ctx.stdout(`${JSON.stringify(release, null, 2)}\n`);
    return 0;
  }
  ctx.stdout(releaseStatus(release, ctx.colors, Date.now()));
  if (!values.watch) return 0;

  const watched = await untilInterrupted(ctx, async (signal) => {
    while (!isFinal(release)) {
      await sleep(intervalMs, undefined, { signal });
      const next = await lookAgain(client, id);
      if (!next) continue;
      ctx.stdout(releaseChanges(release, next, ctx.colors, Date.now()));
      release = next;
    }
    return release;
  });
  if (watched === "interrupted") return 130;
  ctx.stdout(`\n${releaseOutcome(watched, ctx.colors)}`);
  return watched.phase === "promoted" ? 0 : 1;
}

async function giveCommand(name: Exclude<ReleaseCommand, "promote-full">, argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, name === "promote" ? PROMOTE_OPTIONS : COMMAND_OPTIONS, `release ${name}`);
  if (values.help) return help(ctx);
  if (positionals.length > 1) throw new UsageError(`gust release ${name} takes one ID, got ${positionals.join(" ")}`);
  const id = idArgument(positionals[0], "release ID", `release ${name}`);
  const command: ReleaseCommand = name === "promote" && "full" in values && values.full ? "promote-full" : name;
  const client = new ApiClient(apiSettings(values, ctx));
  await client.releaseCommand(id, command);
  ctx.stdout(`${ctx.colors.cyan("→")} asked release ${id} ${ASKED[command]}\n`);
  ctx.stdout(ctx.colors.dim(`  gust release status ${id} --watch   to follow it\n`));
  return 0;
}

/** The release again; undefined when the server could not answer this once (a restart, a blip). */
async function lookAgain(client: ApiClient, id: number): Promise<ReleaseDetail | undefined> {
  try {
    return await client.getRelease(id);
  } catch (error) {
    if (error instanceof ApiError && error.retryable) return undefined;
    throw error;
  }
}

function isFinal(release: ReleaseDetail): boolean {
  return FINAL_RELEASE_PHASES.includes(release.phase);
}

function seconds(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number) || number <= 0) throw new UsageError(`--${flag} expects a number of seconds above 0, got '${value}'`);
  return number;
}

function help(ctx: CliContext): number {
  ctx.stdout(RELEASE_HELP);
  return 0;
}
