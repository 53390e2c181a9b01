// The runner API job pods talk to (protocol v1): the workspace source, artifacts of the jobs a job
// needs, its own artifacts, the cache. Every route needs the job's runner token, which says what
// the pod may touch; bodies are streamed to and from the blob store, never held in memory.
// Mounted by the server under RUNNER_API_BASE_PATH; usable on its own (it has its own onError).
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { Hono, type MiddlewareHandler } from "hono";
import pino, { type Logger } from "pino";
import type { LogFields } from "../http/app-env";
import { errorResponse, errorsOnly, HttpError } from "../http/http-error";
import { checkDeclaredLength, tooLarge } from "../http/raw-body";
import { BlobTooLargeError, type RunnerBlobStore } from "./blob-store";
import { verifyRunnerToken, RunnerTokenError, type RunnerTokenClaims } from "./runner-token";
import { sourceTar } from "./source-tar";

export const RUNNER_API_BASE_PATH = "/runner/v1";
/** The response header naming the cache key that was restored (percent-encoded, as in a URL). */
export const CACHE_KEY_HEADER = "Gust-Cache-Key";

export interface RunnerApiOptions {
  /** The key runner tokens are signed with (deriveRunnerTokenKey of the master key). */
  tokenKey: Buffer;
  blobs: RunnerBlobStore;
  /** Largest artifact or cache tar accepted. */
  maxUploadBytes: number;
  /** Absolute directories never sent as part of a directory source (Gust's data directory). */
  sourceExclude?: string[];
  /** Where unexpected failures are logged; silent when absent. */
  logger?: Logger;
  now?: () => number;
}

export type RunnerApiEnv = { Variables: { runner: RunnerTokenClaims; log?: LogFields } };

export function createRunnerApi(options: RunnerApiOptions): Hono<RunnerApiEnv> {
  const app = new Hono<RunnerApiEnv>();
  const logger = options.logger ?? pino({ enabled: false });
  const limit = options.maxUploadBytes;

  app.use(errorsOnly);
  app.use(authenticate(options.tokenKey, options.now ?? Date.now));

  app.get("/source", async (c) => {
    const claims = c.get("runner");
    if (!claims.source) throw new HttpError(404, "source_not_found", "this job's source is not served by Gust; the pod clones it");
    return tarResponse(await sourceTar(claims.source, options.sourceExclude ?? []));
  });

  app.get("/artifacts/:jobKey", async (c) => {
    const claims = c.get("runner");
    const jobKey = c.req.param("jobKey");
    if (!claims.needs.includes(jobKey)) {
      throw new HttpError(403, "forbidden", `job ${claims.job} does not need ${jobKey}; it may only read the artifacts of ${claims.needs.join(", ") || "no job"}`);
    }
    const blob = await options.blobs.openArtifact(claims.pipelineRun, jobKey);
    if (!blob) throw new HttpError(404, "artifacts_not_found", `${jobKey} published no artifacts in this pipeline run`);
    return tarResponse(blob.stream, blob.bytes);
  });

  app.put("/artifacts", async (c) => {
    const claims = c.get("runner");
    checkDeclaredLength(c.req.raw, limit);
    const { bytes } = await withinLimit(options.blobs.putArtifact(claims.pipelineRun, claims.job, requestBody(c.req.raw), limit), limit);
    return c.json({ bytes }, 201);
  });

  app.get("/cache", async (c) => {
    const claims = c.get("runner");
    const key = c.req.query("key");
    if (key === undefined || key === "") throw new HttpError(400, "invalid_input", "query parameter key is required");
    const restore = (c.req.queries("restore") ?? []).filter((prefix) => prefix !== "");
    const found = await options.blobs.openCache(claims.cacheScope, key, restore);
    if (!found) throw new HttpError(404, "cache_not_found", `no cache entry for ${key}`);
    return tarResponse(found.blob.stream, found.blob.bytes, { [CACHE_KEY_HEADER]: encodeURIComponent(found.key) });
  });

  app.put("/cache/:key", async (c) => {
    const claims = c.get("runner");
    const key = c.req.param("key");
    // Before reading the body: a key already saved is the common case and costs no upload.
    if (await options.blobs.hasCache(claims.cacheScope, key)) return alreadySaved(key);
    checkDeclaredLength(c.req.raw, limit);
    const result = await withinLimit(options.blobs.putCache(claims.cacheScope, key, requestBody(c.req.raw), limit), limit);
    if (result === "exists") return alreadySaved(key);
    return c.json({ key }, 201);
  });

  app.onError((error) => errorResponse(error, logger));
  return app;
}

function authenticate(key: Buffer, now: () => number): MiddlewareHandler<RunnerApiEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw new HttpError(401, "unauthorized", "a runner token is required (Authorization: Bearer <token>)");
    let claims: RunnerTokenClaims;
    try {
      claims = verifyRunnerToken(key, match[1], now());
    } catch (error) {
      if (error instanceof RunnerTokenError) throw new HttpError(401, error.code, error.message);
      throw error;
    }
    c.set("runner", claims);
    const log = c.get("log");
    if (log) Object.assign(log, { run: claims.run, job: claims.job });
    await next();
  };
}

function tarResponse(stream: Readable, bytes?: number, headers: Record<string, string> = {}): Response {
  return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, {
    status: 200,
    headers: { "Content-Type": "application/x-tar", ...(bytes !== undefined ? { "Content-Length": String(bytes) } : {}), ...headers },
  });
}

function requestBody(request: Request): Readable {
  return request.body ? Readable.fromWeb(request.body as NodeReadableStream<Uint8Array>) : Readable.from([]);
}

async function withinLimit<T>(put: Promise<T>, limit: number): Promise<T> {
  try {
    return await put;
  } catch (error) {
    if (error instanceof BlobTooLargeError) throw tooLarge(limit);
    throw error;
  }
}

function alreadySaved(key: string): Response {
  // The body is not wanted; closing beats draining it.
  return Response.json({ error: { code: "cache_exists", message: `cache ${key} is already saved` } }, { status: 409, headers: { Connection: "close" } });
}

/** The runner API at its path, as a whole app: for a listener of its own (`gust run --executor kubernetes`). */
export function standaloneRunnerApi(options: RunnerApiOptions): Hono {
  return new Hono().route(RUNNER_API_BASE_PATH, createRunnerApi(options));
}
