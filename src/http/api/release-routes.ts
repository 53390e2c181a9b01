// /api/releases: the list (filters, keyset pages), one release with its steps, analysis and history,
// the commands people give a release (promote, pause, resume, abort, rollback), and the release of
// a pipeline. A command is checked against the stored state (409 when it cannot apply) and queued;
// the replica ticking the release applies it, deciding again against the state it holds then.
import type { Context } from "hono";
import type { ReleaseCommandName, ReleaseState } from "../../release/release-state";
import { commandProblem } from "../../release/release-tick";
import { HttpError } from "../http-error";
import type { ApiDeps } from "./ports";
import { commandAccepted, pipelineRelease, promoteBody, releaseDetail, releaseList, releasesQuery } from "./release-schemas";
import { releaseDetailJson, releaseHeadJson, releaseJson } from "./release-serialize";
import { defineRoute, type ApiEnv, type ApiRoute } from "./route";
import { errorBody, idParams } from "./schemas";

const TAG = "releases";
const DEFAULT_PAGE = 50;

type Command = Exclude<ReleaseCommandName, "promote-full">;

const VERBS: Record<ReleaseCommandName, string> = { promote: "promote", "promote-full": "fully promote", pause: "pause", resume: "resume", abort: "abort", rollback: "roll back" };

const COMMANDS: Record<Command, { summary: string; description: string }> = {
  promote: {
    summary: "Promote a release",
    description:
      "Past the current step (a pause or an analysis ends, failures are forgiven); with `full`, past every remaining step: the new version takes all traffic. Refused (409) while the version is still being published or once the release ended.",
  },
  pause: { summary: "Pause a release", description: "Traffic stays where it is until someone resumes or promotes. Only a progressing release can be paused." },
  resume: { summary: "Resume a paused release", description: "Paused by a person, by a pause step, or by analysis: the release moves on (analysis measures afresh)." },
  abort: { summary: "Abort a release", description: "Traffic goes back to the split live before the release; it ends as aborted." },
  rollback: { summary: "Roll a release back", description: "Traffic goes back to the split live before the release; it ends as rolled-back." },
};

export function releaseRoutes(deps: Pick<ApiDeps, "releases" | "pipelines">): ApiRoute[] {
  const releaseOr404 = async (id: number) => {
    const release = await deps.releases.get(id);
    if (!release) throw new HttpError(404, "not_found", `release ${id} not found`);
    return release;
  };
  const notFound = { description: "no such release", schema: errorBody };

  const queue = async (c: Context<ApiEnv>, id: number, command: ReleaseCommandName) => {
    const release = await releaseOr404(id);
    const problem = commandProblem(release.state as ReleaseState, command);
    if (problem) throw new HttpError(409, "conflict", `cannot ${VERBS[command]} release ${id}: ${problem}`);
    // Who asked, as the release's history and log will say it ("paused by deploy-bot").
    await deps.releases.queueCommand(id, command, c.get("token").name);
    c.get("log").release = id;
    c.get("log").result = command;
    return c.json({ release: id, command, queued: true as const }, 202);
  };

  const commandRoute = (command: Command): ApiRoute => {
    const doc = {
      method: "post",
      path: `/releases/:id/${command}`,
      operationId: `${command}Release`,
      summary: COMMANDS[command].summary,
      description: `${COMMANDS[command].description} The command is queued and applied within moments by the replica ticking the release.`,
      tag: TAG,
      scope: "write",
      params: idParams,
      responses: {
        202: { description: "queued", schema: commandAccepted },
        404: notFound,
        409: { description: "the command cannot apply to the release as it stands (the message says why)", schema: errorBody },
      },
    } as const;
    if (command === "promote") return defineRoute({ ...doc, body: promoteBody, handle: ({ c, params, body }) => queue(c, params.id, body.full ? "promote-full" : "promote") });
    return defineRoute({ ...doc, handle: ({ c, params }) => queue(c, params.id, command) });
  };

  return [
    defineRoute({
      method: "get",
      path: "/releases",
      operationId: "listReleases",
      summary: "Releases, newest first, a page at a time",
      tag: TAG,
      scope: "read",
      query: releasesQuery,
      responses: { 200: { description: "a page of releases", schema: releaseList } },
      async handle({ c, query }) {
        const limit = query.limit ?? DEFAULT_PAGE;
        // One more than the page: whether there is a next page without a second query.
        const rows = await deps.releases.list({
          ...(query.repository !== undefined ? { repositoryId: query.repository } : {}),
          ...(query.target !== undefined ? { target: query.target } : {}),
          ...(query.active !== undefined ? { active: query.active } : {}),
          ...(query.cursor !== undefined ? { cursor: Number(query.cursor) } : {}),
          limit: limit + 1,
        });
        const page = rows.slice(0, limit);
        return c.json({ releases: page.map((row) => releaseJson(row)), nextCursor: rows.length > limit ? String(page[page.length - 1]!.id) : null });
      },
    }),
    defineRoute({
      method: "get",
      path: "/releases/:id",
      operationId: "getRelease",
      summary: "One release: its steps, traffic, analysis and history",
      tag: TAG,
      scope: "read",
      params: idParams,
      responses: { 200: { description: "the release", schema: releaseDetail }, 404: notFound },
      async handle({ c, params }) {
        return c.json(releaseDetailJson(await releaseOr404(params.id)));
      },
    }),
    ...(Object.keys(COMMANDS) as Command[]).map(commandRoute),
    defineRoute({
      method: "get",
      path: "/pipelines/:id/release",
      operationId: "getPipelineRelease",
      summary: "The release of a pipeline",
      tag: TAG,
      scope: "read",
      params: idParams,
      responses: { 200: { description: "the release, or null when there is none yet", schema: pipelineRelease }, 404: { description: "no such pipeline", schema: errorBody } },
      async handle({ c, params }) {
        const pipeline = await deps.pipelines.getPipeline(params.id);
        if (!pipeline) throw new HttpError(404, "not_found", `pipeline ${params.id} not found`);
        const id = await deps.releases.latestIdForPipeline(pipeline.id);
        const release = id === undefined ? undefined : await deps.releases.get(id);
        return c.json({ release: release ? releaseHeadJson(release) : null });
      },
    }),
  ];
}
