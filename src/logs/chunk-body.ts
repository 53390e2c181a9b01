// The body of a log_chunks row: one JSON array per line, newline-separated —
// [ms, attempt, step | null, stream, text]. JSON escapes newlines and NUL (which PostgreSQL text
// cannot hold), so a body line is always exactly one log line.
import type { LogLine, LogStream, NumberedLine } from "./log-store";

export function encodeLine(line: LogLine): string {
  // The same as JSON.stringify of the array, without building the array (this runs for every line).
  return `[${finite(line.at)},${finite(line.attempt)},${line.step === null ? "null" : finite(line.step)},${JSON.stringify(line.stream)},${JSON.stringify(line.text)}]`;
}

function finite(value: number): number {
  return Number.isFinite(value) ? value : 0;
}

export function encodeBody(lines: readonly LogLine[]): string {
  let body = "";
  for (let i = 0; i < lines.length; i++) body += (i === 0 ? "" : "\n") + encodeLine(lines[i]!);
  return body;
}

/**
 * Lines of a chunk whose first line is `firstLine`, numbered, starting at `from` and at most `limit`
 * of them. Lines before `from` are skipped without being parsed.
 */
export function decodeBody(body: string, firstLine: number, from: number, limit: number): NumberedLine[] {
  const out: NumberedLine[] = [];
  let number = firstLine;
  let start = 0;
  while (start <= body.length && out.length < limit) {
    let end = body.indexOf("\n", start);
    if (end === -1) end = body.length;
    if (number >= from) out.push(decodeLine(body.slice(start, end), number));
    number++;
    start = end + 1;
  }
  return out;
}

const STREAMS = new Set<string>(["stdout", "stderr", "system"]);

function decodeLine(json: string, number: number): NumberedLine {
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value) || value.length !== 5) throw new Error(`log line ${number}: not a [ms, attempt, step, stream, text] array`);
  const [at, attempt, step, stream, text] = value as unknown[];
  if (
    typeof at !== "number" ||
    typeof attempt !== "number" ||
    (step !== null && typeof step !== "number") ||
    typeof stream !== "string" ||
    !STREAMS.has(stream) ||
    typeof text !== "string"
  ) {
    throw new Error(`log line ${number}: malformed fields`);
  }
  return { number, at, attempt, step, stream: stream as LogStream, text };
}
