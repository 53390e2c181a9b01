// `gust pipeline ID`: one pipeline and its jobs, with the job ids `gust logs` takes.
import { API_HELP, API_OPTIONS, ApiClient, apiSettings, idArgument } from "../api-client";
import { parseCommandArgs, UsageError } from "../args";
import type { CliContext } from "../context";
import { pipelineDetail } from "../output/pipeline-table";

export const PIPELINE_HELP = `Usage: gust pipeline ID [options]

Shows a pipeline (ids: gust pipelines) with its jobs: status, duration, why a job did not succeed.

Options:
  --json              the pipeline and its jobs as JSON
${API_HELP}
`;

const OPTIONS = { ...API_OPTIONS, json: { type: "boolean" }, help: { type: "boolean", short: "h" } } as const;

export async function pipelineCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, "pipeline");
  if (values.help) {
    ctx.stdout(PIPELINE_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`gust pipeline takes one ID, got ${positionals.join(" ")}`);
  const id = idArgument(positionals[0], "pipeline ID", "pipeline");
  const client = new ApiClient(apiSettings(values, ctx));
  const pipeline = await client.getPipeline(id);
  if (values.json) {
    ctx.stdout(`${JSON.stringify(pipeline, null, 2)}\n`);
    return 0;
  }
  const repository = await client.getRepository(pipeline.repositoryId).then(
    (r) => r.fullName,
    () => undefined, // the name is a nicety: the pipeline is what was asked for
  );
  ctx.stdout(pipelineDetail(pipeline, ctx.colors, Date.now(), repository));
  return 0;
}
