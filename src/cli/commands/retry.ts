// `gust retry PIPELINE_ID [--failed]`: a new run of the pipeline at the same commit, or only its
// failed jobs (and those they held back) again within the same pipeline.
import { API_HELP, API_OPTIONS, ApiClient, apiSettings, idArgument } from "../api-client";
import { parseCommandArgs, UsageError } from "../args";
import type { CliContext } from "../context";
import { statusLabel } from "../output/api-status";

export const RETRY_HELP = `Usage: gust retry PIPELINE_ID [options]

Runs a pipeline again at the same commit, as a new pipeline with the next number.

Options:
  --failed            only the failed, timed-out, cancelled and errored jobs and the jobs they held
                      back, in the same pipeline (refused while it runs or when nothing failed)
${API_HELP}
`;

const OPTIONS = { ...API_OPTIONS, failed: { type: "boolean" }, help: { type: "boolean", short: "h" } } as const;

export async function retryCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, "retry");
  if (values.help) {
    ctx.stdout(RETRY_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`gust retry takes one PIPELINE_ID, got ${positionals.join(" ")}`);
  const id = idArgument(positionals[0], "PIPELINE_ID", "retry");
  const client = new ApiClient(apiSettings(values, ctx));
  const failedOnly = values.failed ?? false;
  const { pipeline } = await client.retryPipeline(id, failedOnly);
  const what = failedOnly ? `retrying the failed jobs of pipeline #${pipeline.number}` : `retried pipeline ${id} as #${pipeline.number}`;
  ctx.stdout(`${ctx.colors.cyan("↻")} ${what} (id ${pipeline.id}, ${statusLabel(pipeline.status, ctx.colors)})\n`);
  ctx.stdout(ctx.colors.dim(`  gust pipeline ${pipeline.id}   to see its jobs\n`));
  return 0;
}
