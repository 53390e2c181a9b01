// The request body as exact bytes (signatures are computed over them, not over re-encoded text),
// never holding more than `limit` bytes in memory.
import { HttpError } from "./http-error";

export function tooLarge(limit: number): HttpError {
  // `Connection: close`: the rest of the body is not wanted; closing beats draining it.
  return new HttpError(413, "payload_too_large", `the body is larger than ${limit} bytes`, { Connection: "close" });
}

/** 413 before reading anything when the declared length is already past the limit. */
export function checkDeclaredLength(request: Request, limit: number): number | undefined {
  const header = request.headers.get("content-length");
  if (header === null || !/^\d+$/.test(header)) return undefined;
  const declared = Number(header);
  if (declared > limit) throw tooLarge(limit);
  return declared;
}

export async function readRawBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = checkDeclaredLength(request, limit);
  if (declared !== undefined) {
    // A declared length within the limit: the HTTP parser stops the body at that length, so
    // reading it whole cannot hold more than the limit, and @hono/node-server reads it without
    // web streams (the fast path). The check below covers a Request built in-process.
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.byteLength > limit) throw tooLarge(limit);
    return body;
  }
  return readChunked(request, limit);
}

/** No declared length (chunked transfer): count while reading and stop at the first byte too many. */
async function readChunked(request: Request, limit: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  let buffer = new Uint8Array(Math.min(limit, 64 * 1024));
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return buffer.subarray(0, size);
      if (size + value.byteLength > limit) throw tooLarge(limit);
      if (size + value.byteLength > buffer.byteLength) {
        const grown = new Uint8Array(Math.min(limit, Math.max(size + value.byteLength, buffer.byteLength * 2)));
        grown.set(buffer.subarray(0, size));
        buffer = grown;
      }
      buffer.set(value, size);
      size += value.byteLength;
    }
  } finally {
    // Stop pulling without cancelling: cancelling destroys the socket under @hono/node-server
    // before the 413 is written; the unread rest is dropped when the connection closes.
    reader.releaseLock();
  }
}
