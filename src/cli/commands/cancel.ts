// `gust cancel PIPELINE_ID`: stops a pipeline's running jobs and skips the rest.
import { API_HELP, API_OPTIONS, ApiClient, apiSettings, idArgument } from "../api-client";
import { parseCommandArgs, UsageError } from "../args";
import type { CliContext } from "../context";
import { statusLabel } from "../output/api-status";

export const CANCEL_HELP = `Usage: gust cancel PIPELINE_ID [options]

Cancels a pipeline: running jobs are stopped, the others will not start. Exits 1 when the pipeline
had already finished.

Options:
${API_HELP}
`;

const OPTIONS = { ...API_OPTIONS, help: { type: "boolean", short: "h" } } as const;

export async function cancelCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, "cancel");
  if (values.help) {
    ctx.stdout(CANCEL_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`gust cancel takes one PIPELINE_ID, got ${positionals.join(" ")}`);
  const id = idArgument(positionals[0], "PIPELINE_ID", "cancel");
  const client = new ApiClient(apiSettings(values, ctx));
  const result = await client.cancelPipeline(id);
  if (result.outcome === "cancelled") {
    ctx.stdout(`${ctx.colors.yellow("■")} cancelled pipeline ${id} (now ${statusLabel(result.status, ctx.colors)})\n`);
    return 0;
  }
  ctx.stderr(`pipeline ${id} had already finished: ${statusLabel(result.status, ctx.errorColors)}\n`);
  return 1;
}
