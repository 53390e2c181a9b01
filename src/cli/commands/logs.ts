// `gust logs JOB_ID [-f]`: a job's log from gust serve. Without -f the stored lines, page after page;
// with -f the live stream, resumed after a dropped connection from the last line shown (line
// numbers are gapless per job, so a repeat is skipped and a gap is filled from the pages).
import { setTimeout as sleep } from "node:timers/promises";
import { GustError } from "../../errors";
import { API_HELP, API_OPTIONS, ApiClient, ApiError, apiSettings, idArgument, type LogLine } from "../api-client";
import { parseCommandArgs, UsageError } from "../args";
import type { CliContext } from "../context";
import { jobOutcome } from "../output/api-status";
import { LogPrinter } from "../output/log-printer";

export const LOGS_HELP = `Usage: gust logs JOB_ID [options]

Prints a job's log (job ids: gust pipeline ID). With --follow, keeps printing as the job runs and
exits once it finished: 0 if it succeeded, 1 otherwise.

Options:
  -f, --follow        follow the live log until the job finishes
  --json              one JSON object per line: {number, at, attempt, step, stream, text}
${API_HELP}
`;

const OPTIONS = {
  ...API_OPTIONS,
  follow: { type: "boolean", short: "f" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export async function logsCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, "logs");
  if (values.help) {
    ctx.stdout(LOGS_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`gust logs takes one JOB_ID, got ${positionals.join(" ")}`);
  const jobId = idArgument(positionals[0], "JOB_ID", "logs");
  const client = new ApiClient(apiSettings(values, ctx));
  const job = await client.getJob(jobId);
  const printer = new LogPrinter(ctx.stdout, ctx.colors);
  printer.setSteps(job.steps);
  const asked = new Set<string>();
  const show = async (line: LogLine) => {
    if (values.json) {
      ctx.stdout(`${JSON.stringify(line)}\n`);
      return;
    }
    // A later attempt's steps get their rows as it runs: ask once per step we cannot name.
    const key = `${line.attempt}:${line.step}`;
    if (!printer.knowsStep(line) && !asked.has(key)) {
      asked.add(key);
      printer.setSteps((await client.getJob(jobId)).steps);
    }
    printer.print(line);
  };
  if (!values.follow) {
    await printStoredLog(client, jobId, 0, show);
    return 0;
  }
  const followed = await untilInterrupted(ctx, (signal) => followJobLog(client, jobId, { after: 0, onLine: show, signal }));
  if (followed === "interrupted") return 130;
  const final = await client.getJob(jobId);
  if (!values.json) ctx.stdout(`${jobOutcome(final, ctx.colors, Date.now())}\n`);
  return final.status === "success" ? 0 : 1;
}

/** Every stored line after `after`, page by page; resolves with the last line's number. */
export async function printStoredLog(client: ApiClient, jobId: number, after: number, onLine: (line: LogLine) => unknown): Promise<number> {
  let last = after;
  for (;;) {
    const page = await client.jobLogs(jobId, last);
    for (const line of page.lines) {
      if (line.number <= last) continue;
      await onLine(line);
      last = line.number;
    }
    if (!page.more || page.lines.length === 0) return last;
  }
}

const LONG_CONNECTION_MS = 15_000;

export interface FollowOptions {
  /** The last line already shown: following starts after it. */
  after: number;
  onLine: (line: LogLine) => unknown;
  signal?: AbortSignal;
  /** Waits before reconnecting, doubling from firstDelayMs to maxDelayMs; give up after `attempts` in a row that brought nothing. */
  retry?: { firstDelayMs?: number; maxDelayMs?: number; attempts?: number };
}

/**
 * Follows the live log until the server says `end` (the job finished and every line was sent);
 * resolves with the last line's number. Rejects on a refusal (unknown job, bad token), after too
 * many failed reconnections, or with the signal's reason when aborted.
 */
export async function followJobLog(client: ApiClient, jobId: number, options: FollowOptions): Promise<number> {
  const firstDelay = options.retry?.firstDelayMs ?? 250;
  const maxDelay = options.retry?.maxDelayMs ?? 5_000;
  const attempts = options.retry?.attempts ?? 10;
  let last = options.after;
  const fill = async (upTo: number) => {
    last = await printStoredLog(client, jobId, last, async (line) => {
      if (line.number <= upTo) await options.onLine(line);
    });
    last = Math.min(last, upTo);
  };
  let failures = 0;
  let delay = firstDelay;
  for (;;) {
    let lastProblem = "the server ended the stream early";
    let progressed = false;
    const opened = Date.now();
    try {
      for await (const event of client.logStream(jobId, last, options.signal)) {
        if (event.event === "line") {
          const line = parseData<LogLine>(event.data, jobId);
          if (line.number <= last) continue; // already shown before a reconnection
          if (line.number > last + 1) await fill(line.number - 1);
          await options.onLine(line);
          last = line.number;
          progressed = true;
        } else if (event.event === "end") {
          const { lastLine } = parseData<{ lastLine: number }>(event.data, jobId);
          if (lastLine > last) await fill(lastLine);
          return last;
        }
      }
    } catch (error) {
      if (options.signal?.aborted || !(error instanceof ApiError) || !error.retryable) throw error;
      lastProblem = error.message;
    }
    // A connection that brought lines, or stayed open a while (a job waiting to start, then a proxy
    // cutting idle connections), is not a failure in a row.
    if (progressed || Date.now() - opened >= LONG_CONNECTION_MS) {
      failures = 0;
      delay = firstDelay;
    }
    if (++failures > attempts) throw new ApiError(`gave up following job ${jobId} after ${attempts} reconnections: ${lastProblem}`, 0, "connection_lost");
    await sleep(delay, undefined, { signal: options.signal });
    delay = Math.min(delay * 2, maxDelay);
  }
}

function parseData<T>(data: string, jobId: number): T {
  try {
    return JSON.parse(data) as T;
  } catch {
    throw new GustError(`the log stream of job ${jobId} sent an event that is not JSON: ${data.slice(0, 80)}`, { fault: "infrastructure", retryable: false, code: "bad_answer" });
  }
}

/** Runs `work` until it resolves or Ctrl-C, which aborts its signal. */
export async function untilInterrupted<T>(ctx: CliContext, work: (signal: AbortSignal) => Promise<T>): Promise<T | "interrupted"> {
  const controller = new AbortController();
  const remove = ctx.onInterrupt(() => controller.abort());
  try {
    return await work(controller.signal);
  } catch (error) {
    if (controller.signal.aborted) return "interrupted";
    throw error;
  } finally {
    remove();
  }
}
