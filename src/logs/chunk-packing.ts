// How a chunk body (chunk-body.ts) is put into the text column. A small one goes as it is, readable
// in psql. A larger one is deflated and base64-encoded behind a `deflate:` prefix: log text shrinks
// four to ten times, and every byte not sent is one the database does not parse, TOAST, write to
// its WAL and to disk — which is most of an append's cost (on PGlite all of it runs on this thread,
// in WebAssembly). Deflating runs on libuv's thread pool, beside this thread. A body holding NUL,
// which a text column cannot, is deflated whatever its size.
//
// The forms cannot be confused: a plain body ends with its JSON header's `}`, base64 never does.
import { promisify } from "node:util";
import { deflateRaw, inflateRaw } from "node:zlib";
import { ChunkFormatError, encodeChunkText, writeChunk } from "./chunk-body";
import type { LogLine } from "./log-store";

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

export const DEFLATE_PREFIX = "deflate:";
/** Bodies whose texts take up to this many characters are stored as they are. */
export const PLAIN_MAX_CHARS = 8 * 1024;
/** Speed over ratio: level 1 already gets most of what log text gives. */
const LEVEL = 1;

export interface PackedChunk {
  /**
   * The column text; as its bytes when deflated, which drivers send as they are, where a string
   * would be measured and encoded again character by character (PGlite does that in JavaScript).
   */
  body: string | Buffer;
  /** UTF-8 bytes of the texts plus one newline each: the lines' size in a plain-text log. */
  textBytes: number;
}

/**
 * Buffers the large bodies are written into before deflating, kept for the next chunk: a fresh
 * buffer of a few MB per chunk costs page faults and garbage collections that are a noticeable
 * part of an append. At most a few are kept; each is lent to one chunk until it is deflated.
 */
const spare: Buffer[] = [];
const SPARE_COUNT = 2;
const SPARE_MAX_BYTES = 16 * 1024 * 1024;

export async function packChunk(lines: readonly LogLine[]): Promise<PackedChunk> {
  let chars = 0;
  for (const line of lines) chars += line.text.length + 1;
  if (chars <= PLAIN_MAX_CHARS) {
    const { body, header } = encodeChunkText(lines);
    if (!body.includes("\0")) return { body, textBytes: Buffer.byteLength(body, "utf8") - header.length };
  }
  const written = writeChunk(lines, spare.pop() ?? Buffer.allocUnsafe(Math.max(1024 * 1024, chars + (chars >> 2))));
  try {
    // One output buffer that log text fits in: each extra one is another trip between this thread
    // and the pool (the default 16 KiB made that a third of the deflating's cost on this thread).
    const chunkSize = Math.max(64 * 1024, written.length >> 1);
    const deflated = await deflate(written.buffer.subarray(0, written.length), { level: LEVEL, chunkSize });
    return { body: Buffer.from(DEFLATE_PREFIX + deflated.toString("base64"), "latin1"), textBytes: written.textBytes };
  } finally {
    if (spare.length < SPARE_COUNT && written.buffer.length <= SPARE_MAX_BYTES) spare.push(written.buffer);
  }
}

/** The body in its version 2 form from the column text (a body of the legacy form excepted). */
export async function unpackBody(text: string): Promise<string> {
  if (text.endsWith("}")) return text;
  if (text.startsWith(DEFLATE_PREFIX)) {
    const deflated = Buffer.from(text.slice(DEFLATE_PREFIX.length), "base64");
    // Room for what log text usually inflates to, in one trip to the pool (see packChunk).
    const chunkSize = Math.min(8 * 1024 * 1024, Math.max(64 * 1024, 6 * deflated.length));
    return (await inflate(deflated, { chunkSize })).toString("utf8");
  }
  throw new ChunkFormatError("neither a plain nor a deflated body");
}
