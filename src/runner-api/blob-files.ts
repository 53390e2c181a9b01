// File plumbing of the blob store: a stream written aside with a byte limit (never half-visible,
// never buffered whole), a file opened for reading with its size, and names from the job kept to
// one safe path segment.
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import path from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GustError } from "../errors";

/** The body went past the allowed size; nothing was kept. */
export class BlobTooLargeError extends GustError {
  constructor(readonly limit: number) {
    super(`the body is larger than ${limit} bytes`, { fault: "user", retryable: false, code: "payload_too_large" });
  }
}

export interface BlobRead {
  stream: Readable;
  bytes: number;
}

/**
 * One directory name for a value from a job or a token: characters outside [A-Za-z0-9_-] (and a
 * leading dot, which would hide it among the temp files) become %xx, so distinct values never share
 * a name and none can leave the parent.
 */
export function pathSegment(value: string, what: string): string {
  if (value === "") throw new GustError(`empty ${what}`, { fault: "user", retryable: false, code: "invalid_input" });
  return value.replace(/[^A-Za-z0-9._-]|^\./g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/**
 * Streams `body` into a new temp file in `dir` and returns its path; the caller moves it into
 * place (rename or link) and removes it if that fails. Throws BlobTooLargeError past `maxBytes`.
 */
export async function writeTemporary(dir: string, body: Readable, maxBytes: number): Promise<{ file: string; bytes: number }> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `.tmp-${randomBytes(8).toString("hex")}`);
  let bytes = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback(bytes > maxBytes ? new BlobTooLargeError(maxBytes) : null, chunk);
    },
  });
  try {
    await pipeline(body, limit, createWriteStream(file, { flags: "wx" }));
    return { file, bytes };
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
}

/** The file as a stream with its size, or undefined when it does not exist. */
export async function openBlob(file: string): Promise<BlobRead | undefined> {
  let handle;
  try {
    handle = await open(file, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    // Size from the open file: a replacement renamed in meanwhile does not change what is sent.
    const { size } = await handle.stat();
    return { stream: handle.createReadStream(), bytes: size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
