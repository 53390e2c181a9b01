// HTTP handlers for job logs, exported for http/ to mount (logs/ never imports http/):
//   GET /api/jobs/:id/logs/stream   Server-Sent Events, one `line` event per line with `id: <number>`,
//                                   resumable from Last-Event-ID (or ?after=N); `end` once the job
//                                   finished and every line was sent; a comment every 15 s. A client
//                                   closes its EventSource on `end` (else it reconnects, gets `end`).
//   GET /api/jobs/:id/logs?after=&limit=   a page of lines as JSON.
// Errors are thrown as InputError (code `not_found` for an unknown job) for the app's onError.
import type { Context } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import { InputError } from "../errors";
import type { LogHub } from "./log-hub";
import type { LogStore, NumberedLine } from "./log-store";

export interface JobLogState {
  /** The job reached a final status and its log writer was closed. */
  finished: boolean;
}

/** The job's state, or null when there is no such job. */
export type JobStateLookup = (jobId: number) => Promise<JobLogState | null>;

export interface LogStreamOptions {
  hub: LogHub;
  jobState: JobStateLookup;
  /** Default 15 s. Each heartbeat also looks at the store and at the job's state again. */
  heartbeatMs?: number;
  /** Client reconnection delay sent in `retry:`. Default 2 s. */
  retryMs?: number;
}

export interface LogPageOptions {
  store: LogStore;
  jobState: JobStateLookup;
  /** Default 1000. */
  defaultLimit?: number;
  /** Default 5000. */
  maxLimit?: number;
  /** A page ends early once its text reaches this many characters. Default 4 MiB. */
  maxPageBytes?: number;
}

/** What one line looks like in `data:` and in a page. */
export interface LogLineJson {
  number: number;
  at: number;
  attempt: number;
  step: number | null;
  stream: string;
  text: string;
}

export function logStreamHandler(options: LogStreamOptions): (c: Context) => Promise<Response> {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const retryMs = options.retryMs ?? 2_000;
  return async (c) => {
    const jobId = parseJobId(c.req.param("id"));
    const lastEventId = c.req.header("Last-Event-ID");
    // A reconnecting EventSource sends Last-Event-ID; it wins over the ?after= of the original URL.
    const after = lastEventId !== undefined && lastEventId.trim() !== "" ? parseCount(lastEventId, "Last-Event-ID") : parseCount(c.req.query("after"), "after", 0);
    if (!(await options.jobState(jobId))) throw notFound(jobId);
    c.header("X-Accel-Buffering", "no"); // an nginx ingress would otherwise hold events back
    return streamSSE(c, (stream) => streamLog(stream, c.req.raw.signal, jobId, after, options, heartbeatMs, retryMs));
  };
}

async function streamLog(
  stream: SSEStreamingApi,
  signal: AbortSignal,
  jobId: number,
  after: number,
  options: LogStreamOptions,
  heartbeatMs: number,
  retryMs: number,
): Promise<void> {
  await stream.write(`retry: ${retryMs}\n\n`);
  const subscription = options.hub.subscribe(jobId, after, async (lines) => {
    await stream.write(formatLines(lines));
  });
  const stop = () => subscription.close();
  stream.onAbort(stop);
  signal.addEventListener("abort", stop, { once: true });
  let ending = false;
  // Subscribed first, then asked: a job that finishes in between is seen by one or the other.
  const checkFinished = async (): Promise<void> => {
    if (ending || subscription.closed) return;
    const state = await options.jobState(jobId);
    if (!state?.finished || ending) return;
    ending = true;
    subscription.endAfter(await options.hub.store.lineCount(jobId));
  };
  const heartbeat = setInterval(() => {
    void stream.write(": heartbeat\n\n");
    subscription.poke(); // covers a notification lost between replicas
    checkFinished().catch(() => {}); // the next heartbeat tries again
  }, heartbeatMs);
  try {
    await checkFinished();
    const end = await subscription.done;
    if (end.reason === "end") await stream.write(`event: end\ndata: ${JSON.stringify({ lastLine: end.lastLine })}\n\n`);
    // Dropped: end the response; the client reconnects with Last-Event-ID and resumes from the store.
    else if (end.reason === "dropped") stream.abort();
  } finally {
    clearInterval(heartbeat);
    signal.removeEventListener("abort", stop);
    subscription.close();
  }
}

export function logPageHandler(options: LogPageOptions): (c: Context) => Promise<Response> {
  const defaultLimit = options.defaultLimit ?? 1000;
  const maxLimit = options.maxLimit ?? 5000;
  const maxPageBytes = options.maxPageBytes ?? 4 * 1024 * 1024;
  return async (c) => {
    const jobId = parseJobId(c.req.param("id"));
    const after = parseCount(c.req.query("after"), "after", 0);
    const limit = parseCount(c.req.query("limit"), "limit", defaultLimit);
    if (limit < 1 || limit > maxLimit) throw new InputError(`limit must be between 1 and ${maxLimit}, got ${limit}`, "invalid_query");
    const state = await options.jobState(jobId);
    if (!state) throw notFound(jobId);
    const lines = await options.store.read(jobId, { afterLine: after, limit, maxBytes: maxPageBytes });
    const last = lines[lines.length - 1];
    let bytes = 0;
    for (const line of lines) bytes += line.text.length;
    c.header("Cache-Control", "no-store");
    return c.json({
      jobId,
      lines: lines.map(lineJson),
      /** `after` for the next page. */
      next: last ? last.number : after,
      /** No more lines will come after `next` … */
      finished: state.finished,
      /** … and this page is the last one (so far). */
      more: lines.length === limit || bytes >= maxPageBytes,
    });
  };
}

export function lineJson(line: NumberedLine): LogLineJson {
  return { number: line.number, at: line.at, attempt: line.attempt, step: line.step, stream: line.stream, text: line.text };
}

/** One `line` event per line, in one string so the batch takes one write. */
export function formatLines(lines: readonly NumberedLine[]): string {
  let out = "";
  // JSON.stringify escapes CR and LF, the only line ends of SSE, so `data:` is always one line.
  for (const line of lines) out += `id: ${line.number}\nevent: line\ndata: ${JSON.stringify(lineJson(line))}\n\n`;
  return out;
}

function parseJobId(raw: string | undefined): number {
  const id = raw !== undefined && /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(id)) throw new InputError(`job id must be a positive integer, got ${JSON.stringify(raw ?? "")}`, "invalid_path");
  return id;
}

function parseCount(raw: string | undefined, name: string, fallback?: number): number {
  if ((raw === undefined || raw === "") && fallback !== undefined) return fallback;
  const value = raw !== undefined && /^[0-9]{1,16}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw new InputError(`${name} must be a non-negative integer, got ${JSON.stringify(raw ?? "")}`, "invalid_query");
  return value;
}

function notFound(jobId: number): InputError {
  return new InputError(`job ${jobId} not found`, "not_found");
}
