// `gust trigger REPO`: runs a repository's pipelines with a manual trigger on gust serve, and with
// --follow prints their jobs' logs live until they finish.
import { setTimeout as sleep } from "node:timers/promises";
import { formatDuration } from "../../pipeline";
import { API_HELP, API_OPTIONS, ApiClient, apiSettings, type Inputs, type Job, type LogLine, type Pipeline } from "../api-client";
import { keyValues, parseCommandArgs, UsageError } from "../args";
import type { CliContext } from "../context";
import { isFinished, jobOutcome, shortSha, statusLabel } from "../output/api-status";
import { LogPrinter } from "../output/log-printer";
import { jobsTable } from "../output/pipeline-table";
import { followJobLog, printStoredLog, untilInterrupted } from "./logs";
import { findRepository } from "./pipelines";

export const TRIGGER_HELP = `Usage: gust trigger REPO [options]

Runs the pipelines of REPO (full name, local path or id) that have a manual trigger, at the head of
a branch or tag. With --follow, prints the jobs' logs as they run and exits 0 only if every
pipeline succeeded.

Options:
  --ref R             branch, tag or full ref (default: the default branch)
  --input K=V         a manual input (repeatable); true/false and numbers are sent as such
  --pipeline NAME     only the pipeline with this name or file
  -f, --follow        follow the jobs' logs until the pipelines finish
${API_HELP}
`;

const OPTIONS = {
  ...API_OPTIONS,
  ref: { type: "string" },
  input: { type: "string", multiple: true },
  pipeline: { type: "string" },
  follow: { type: "boolean", short: "f" },
  help: { type: "boolean", short: "h" },
} as const;

/** How often a followed pipeline is looked at again, besides whenever one of its jobs' logs ends. */
const PIPELINE_CHECK_MS = 3_000;

export async function triggerCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, "trigger");
  if (values.help) {
    ctx.stdout(TRIGGER_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`gust trigger takes one REPO${positionals.length ? `, got ${positionals.join(" ")}` : ""}\nrun 'gust trigger --help' for the options`);
  const inputs = parseInputs(values.input);
  const client = new ApiClient(apiSettings(values, ctx));
  const repository = await findRepository(client, positionals[0]!, ctx.cwd);
  const result = await client.trigger(repository.id, {
    ...(values.ref !== undefined ? { ref: values.ref } : {}),
    ...(Object.keys(inputs).length > 0 ? { inputs } : {}),
    ...(values.pipeline !== undefined ? { pipeline: values.pipeline } : {}),
  });
  const { colors } = ctx;
  if (result.kind === "pending") {
    ctx.stdout(`${colors.yellow("⧗")} accepted for ${repository.fullName} (delivery ${result.deliveryId}): the forge cannot be reached now; the pipelines are created once it answers\n`);
    if (values.follow) ctx.stderr(`${ctx.errorColors.yellow("note")}: nothing to follow yet; gust pipelines ${repository.fullName} shows them once created\n`);
    return values.follow ? 1 : 0;
  }
  const at = `${result.ref.replace(/^refs\/(heads|tags)\//, "")} (${shortSha(result.sha)})`;
  if (result.kind === "nothing") {
    ctx.stderr(`nothing triggered in ${repository.fullName} at ${at}: ${result.reason}\n`);
    return 1;
  }
  ctx.stdout(`${colors.green("✔")} triggered ${repository.fullName} at ${at}\n`);
  for (const pipeline of result.pipelines) ctx.stdout(`  #${pipeline.number} ${pipeline.name}  ${statusLabel(pipeline.status, colors)}  ${colors.dim(`id ${pipeline.id}`)}\n`);
  if (!values.follow) {
    ctx.stdout(colors.dim(`  gust pipeline ${result.pipelines[0]!.id}   to see its jobs; --follow to watch them run\n`));
    return 0;
  }
  const outcome = await untilInterrupted(ctx, async (signal) => {
    let succeeded = true;
    for (const created of result.pipelines) {
      ctx.stdout(`\n${colors.bold(`▶ #${created.number} ${created.name}`)} ${colors.dim(`(id ${created.id})`)}\n`);
      const finished = await followPipeline(client, created.id, ctx, signal);
      ctx.stdout(`\n${pipelineVerdict(finished, ctx)}\n`);
      if (finished.status !== "success") succeeded = false;
    }
    return succeeded;
  });
  if (outcome === "interrupted") {
    ctx.stderr(ctx.errorColors.yellow(`\nstopped following; the pipelines keep running (gust cancel ${result.pipelines.map((p) => p.id).join(", ")} stops them)\n`));
    return 130;
  }
  return outcome ? 0 : 1;
}

/** `--input k=v` values: true/false become booleans, numbers that read back the same numbers, the rest strings. */
export function parseInputs(pairs: string[] | undefined): Inputs {
  const inputs: Inputs = {};
  for (const [name, text] of Object.entries(keyValues(pairs, "input"))) inputs[name] = inputValue(text);
  return inputs;
}

export function inputValue(text: string): string | number | boolean {
  if (text === "true") return true;
  if (text === "false") return false;
  // "007" or "1.0" stay text: as numbers they would come back as "7" and "1".
  const number = Number(text);
  return text.trim() !== "" && Number.isFinite(number) && String(number) === text ? number : text;
}

/**
 * Prints the logs of every job of the pipeline as they come, each under the job's name, and
 * resolves with the pipeline once it finished. A job's stream ends by itself when the job
 * finishes; a job that finishes without ever running (skipped) is noticed when the pipeline is
 * looked at again, and its log (if any) read from the store.
 */
export async function followPipeline(client: ApiClient, pipelineId: number, ctx: CliContext, signal: AbortSignal, checkMs = PIPELINE_CHECK_MS): Promise<Pipeline & { jobs: Job[] }> {
  let pipeline = await client.getPipeline(pipelineId);
  if (pipeline.error) ctx.stdout(`${ctx.colors.red(pipeline.error)}\n`);
  const width = Math.max(0, ...pipeline.jobs.map((job) => job.name.length));
  const followers = new Map<number, { stop: AbortController; done: Promise<void> }>();
  let failure: unknown;
  // A follower that ends wakes the loop at once, also when it ends before the loop waits.
  let woken = false;
  let endWait: (() => void) | undefined;
  const wake = () => {
    woken = true;
    endWait?.();
  };

  const follow = (job: Job, index: number) => {
    const stop = new AbortController();
    const abort = () => stop.abort();
    signal.addEventListener("abort", abort, { once: true });
    const printer = new LogPrinter(ctx.stdout, ctx.colors, { name: job.name, width, color: index });
    let last = 0;
    const asked = new Set<string>();
    const show = async (line: LogLine) => {
      const key = `${line.attempt}:${line.step}`;
      if (!printer.knowsStep(line) && !asked.has(key)) {
        asked.add(key);
        printer.setSteps((await client.getJob(job.id)).steps);
      }
      printer.print(line);
      last = line.number;
    };
    const done = (async () => {
      try {
        printer.setSteps((await client.getJob(job.id)).steps);
        await followJobLog(client, job.id, { after: 0, onLine: show, signal: stop.signal });
      } catch (error) {
        if (signal.aborted || !stop.signal.aborted) throw error;
        // Stopped because the job is over: every line it wrote is stored by now.
        await printStoredLog(client, job.id, last, show);
      } finally {
        signal.removeEventListener("abort", abort);
      }
      printer.note(jobOutcome(await client.getJob(job.id), ctx.colors, Date.now()));
    })().then(
      () => wake(),
      (error: unknown) => {
        failure ??= error;
        wake();
      },
    );
    followers.set(job.id, { stop, done });
  };

  for (;;) {
    pipeline.jobs.forEach((job, index) => {
      if (!followers.has(job.id)) follow(job, index);
      if (isFinished(job.status)) followers.get(job.id)!.stop.abort();
    });
    if (isFinished(pipeline.status)) break;
    if (!woken) {
      await new Promise<void>((resolve, reject) => {
        const timer = new AbortController();
        endWait = () => {
          timer.abort(); // no timer left to keep the process alive
          resolve();
        };
        sleep(checkMs, undefined, { signal: AbortSignal.any([timer.signal, signal]) }).then(endWait, () => (signal.aborted ? reject(signal.reason as Error) : undefined));
      });
    }
    endWait = undefined;
    woken = false;
    if (failure !== undefined) throw failure;
    pipeline = await client.getPipeline(pipelineId);
  }
  await Promise.all([...followers.values()].map((follower) => follower.done));
  if (failure !== undefined) throw failure;
  return client.getPipeline(pipelineId);
}

function pipelineVerdict(pipeline: Pipeline & { jobs: Job[] }, ctx: CliContext): string {
  const { colors } = ctx;
  const took = pipeline.startedAt && pipeline.finishedAt ? ` in ${formatDuration(Date.parse(pipeline.finishedAt) - Date.parse(pipeline.startedAt))}` : "";
  const verdict =
    pipeline.status === "success"
      ? colors.green(colors.bold(`Pipeline #${pipeline.number} succeeded${took}`))
      : pipeline.status === "cancelled"
        ? colors.yellow(colors.bold(`Pipeline #${pipeline.number} cancelled${took}`))
        : colors.red(colors.bold(`Pipeline #${pipeline.number} ${pipeline.status === "skipped" ? "skipped" : "failed"}${took}`));
  return `${pipeline.jobs.length > 0 ? `${jobsTable(pipeline.jobs, colors, Date.now())}\n` : ""}${verdict}`;
}
