// The body of a log_chunks row (a text column): the lines' texts as they are, one after another,
// then one line of JSON saying where each ends and what the lines' other fields are:
//
//   <text 1>\n<text 2>\n … <text n>\n{"v":2,"n":[<length of each text>],"r":[<runs>]}
//
// Lengths are in UTF-16 code units (JavaScript string length, which UTF-8 round trips keep): a text
// may hold newlines itself, so the lengths, not the newlines, delimit the texts (the newlines are
// there for a person reading the table, and make the texts part exactly `byte_count` UTF-8 bytes).
// The JSON holds no newline, so it starts after the body's last one. Runs are consecutive lines
// sharing time, attempt, step and stream: [count, at, attempt, step | null, stream], stream 0 stdout,
// 1 stderr, 2 system. Nothing is escaped: encoding is string concatenation, or a few large UTF-8
// writes into a reused buffer, and decoding is slicing one string.
//
// Rows written before this form hold one JSON array per line, [ms, attempt, step | null, stream,
// text], newline-separated; decodeLegacyBody reads them. How bodies are packed into the column
// (deflated when large) is chunk-packing.ts.
import type { LogLine, LogStream, NumberedLine } from "./log-store";

const STREAMS: readonly LogStream[] = ["stdout", "stderr", "system"];
const STREAM_CODES: Record<LogStream, number> = { stdout: 0, stderr: 1, system: 2 };
/** Lines joined into one string before a UTF-8 write: few native calls, no large string. */
const GROUP_LINES = 64;

/** A body that cannot be read (a bug, or a row changed by hand). */
export class ChunkFormatError extends Error {
  override readonly name = "ChunkFormatError";
}

/** The JSON line that ends a body. */
export function chunkHeader(lines: readonly LogLine[]): string {
  const lengths = new Array<number>(lines.length);
  const runs: Array<number | null> = [];
  let runCount = -1; // index in `runs` of the current run's count
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    lengths[i] = line.text.length;
    const at = finite(line.at);
    const attempt = finite(line.attempt);
    const step = line.step === null ? null : finite(line.step);
    const stream = STREAM_CODES[line.stream] ?? 0;
    if (runCount >= 0 && runs[runCount + 1] === at && runs[runCount + 2] === attempt && runs[runCount + 3] === step && runs[runCount + 4] === stream) {
      runs[runCount] = (runs[runCount] as number) + 1;
    } else {
      runCount = runs.length;
      runs.push(1, at, attempt, step, stream);
    }
  }
  return JSON.stringify({ v: 2, n: lengths, r: runs }); // ASCII: numbers and null only
}

/** The whole body as one string (for small chunks). */
export function encodeChunkText(lines: readonly LogLine[]): { body: string; header: string } {
  let body = "";
  for (const line of lines) body += line.text + "\n";
  const header = chunkHeader(lines);
  return { body: body + header, header };
}

/**
 * The body's UTF-8 bytes, written into `scratch` from its start; a larger buffer is allocated when
 * it does not fit (then returned instead, for reuse). `textBytes`: the texts' part, newlines included.
 */
export function writeChunk(lines: readonly LogLine[], scratch: Buffer): { buffer: Buffer; length: number; textBytes: number } {
  let buffer = scratch;
  let offset = 0;
  const room = (need: number): void => {
    if (buffer.length - offset >= need) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * buffer.length, offset + need));
    buffer.copy(grown, 0, 0, offset);
    buffer = grown;
  };
  for (let start = 0; start < lines.length; start += GROUP_LINES) {
    let group = "";
    for (let i = start, end = Math.min(lines.length, start + GROUP_LINES); i < end; i++) group += lines[i]!.text + "\n";
    room(3 * group.length); // UTF-8 takes at most 3 bytes per UTF-16 code unit
    offset += buffer.write(group, offset, "utf8");
  }
  const textBytes = offset;
  const header = chunkHeader(lines);
  room(header.length);
  offset += buffer.write(header, offset, "latin1");
  return { buffer, length: offset, textBytes };
}

function finite(value: number): number {
  return Number.isFinite(value) ? value : 0;
}

interface Header {
  lengths: number[];
  runs: Array<number | null>;
}

function readHeader(body: string, lineCount: number): Header {
  const textsEnd = body.lastIndexOf("\n") + 1;
  let value: unknown;
  try {
    value = JSON.parse(body.slice(textsEnd));
  } catch {
    throw new ChunkFormatError("no header line");
  }
  const { v, n, r } = (value ?? {}) as { v?: unknown; n?: unknown; r?: unknown };
  if (v !== 2 || !Array.isArray(n) || !Array.isArray(r) || r.length % 5 !== 0) throw new ChunkFormatError("not a version 2 header");
  if (n.length !== lineCount) throw new ChunkFormatError(`${n.length} lengths for ${lineCount} lines`);
  let total = 0;
  for (const length of n) {
    if (!Number.isSafeInteger(length) || (length as number) < 0) throw new ChunkFormatError("a length is not a count of characters");
    total += (length as number) + 1;
  }
  if (total !== textsEnd) throw new ChunkFormatError(`lengths add up to ${total} characters, the texts take ${textsEnd}`);
  let lines = 0;
  for (let i = 0; i < r.length; i += 5) {
    const [count, at, attempt, step, stream] = r.slice(i, i + 5) as unknown[];
    if (
      !Number.isSafeInteger(count) ||
      (count as number) < 1 ||
      typeof at !== "number" ||
      typeof attempt !== "number" ||
      (step !== null && typeof step !== "number") ||
      typeof stream !== "number" ||
      STREAMS[stream] === undefined
    ) {
      throw new ChunkFormatError(`malformed run at ${i / 5}`);
    }
    lines += count as number;
  }
  if (lines !== lineCount) throw new ChunkFormatError(`runs hold ${lines} lines, not ${lineCount}`);
  return { lengths: n as number[], runs: r as Array<number | null> };
}

/**
 * Lines of a body whose first line is `firstLine`, numbered, starting at `from` and at most `limit`
 * of them.
 */
export function decodeChunk(body: string, firstLine: number, lineCount: number, from: number, limit: number): NumberedLine[] {
  const { lengths, runs } = readHeader(body, lineCount);
  const out: NumberedLine[] = [];
  let index = 0;
  let offset = 0;
  for (let r = 0; r < runs.length && out.length < limit; r += 5) {
    const count = runs[r] as number;
    const at = runs[r + 1] as number;
    const attempt = runs[r + 2] as number;
    const step = runs[r + 3] as number | null;
    const stream = STREAMS[runs[r + 4] as number]!;
    for (const end = index + count; index < end && out.length < limit; index++) {
      const length = lengths[index]!;
      const number = firstLine + index;
      if (number >= from) out.push({ number, at, attempt, step, stream, text: body.slice(offset, offset + length) });
      offset += length + 1;
    }
  }
  return out;
}

/** Whether `body` is in the form rows had before version 2. */
export function isLegacyBody(body: string): boolean {
  return body.startsWith("[") && body.endsWith("]");
}

/** decodeChunk for a body of the earlier form: one JSON array per line. */
export function decodeLegacyBody(body: string, firstLine: number, from: number, limit: number): NumberedLine[] {
  const out: NumberedLine[] = [];
  let number = firstLine;
  let start = 0;
  while (start <= body.length && out.length < limit) {
    let end = body.indexOf("\n", start);
    if (end === -1) end = body.length;
    if (number >= from) out.push(decodeLegacyLine(body.slice(start, end), number));
    number++;
    start = end + 1;
  }
  return out;
}

function decodeLegacyLine(json: string, number: number): NumberedLine {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new ChunkFormatError(`line ${number} is not JSON`);
  }
  if (!Array.isArray(value) || value.length !== 5) throw new ChunkFormatError(`line ${number} is not a [ms, attempt, step, stream, text] array`);
  const [at, attempt, step, stream, text] = value as unknown[];
  if (
    typeof at !== "number" ||
    typeof attempt !== "number" ||
    (step !== null && typeof step !== "number") ||
    typeof stream !== "string" ||
    !STREAMS.includes(stream as LogStream) ||
    typeof text !== "string"
  ) {
    throw new ChunkFormatError(`line ${number} has malformed fields`);
  }
  return { number, at, attempt, step, stream: stream as LogStream, text };
}
