// The per-job token a pod presents to the runner API: what the job may read and write (its own
// artifacts, the artifacts of the jobs it needs, one cache scope, its source), signed with
// HMAC-SHA256 so any replica holding the key can check it without a database lookup.
// Format: base64url(JSON claims) "." base64url(HMAC over the first part). Short-lived: the
// executor mints it for the job's timeout plus a margin.
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { GustError } from "../errors";

/** Where GET /runner/v1/source takes the workspace from (sources the pod cannot clone itself). */
export type RunnerTokenSource =
  | { kind: "git-local"; path: string; commit: string }
  | { kind: "directory"; path: string };

export interface RunnerTokenClaims {
  v: 1;
  /** The run id (one attempt of one job). */
  run: string;
  /** The pipeline run whose artifacts the job reads and writes. */
  pipelineRun: string;
  /** The job key its own artifacts are stored under. */
  job: string;
  /** Job keys whose artifacts it may download (the job's artifactsFrom). */
  needs: string[];
  /** The cache namespace it reads and writes, e.g. one per repository. */
  cacheScope: string;
  source?: RunnerTokenSource;
  /** Expiry, epoch milliseconds. */
  exp: number;
}

export type RunnerTokenGrant = Omit<RunnerTokenClaims, "v" | "exp">;

/** A token that is malformed, forged or expired. Whose fault: whoever presented it. */
export class RunnerTokenError extends GustError {
  constructor(message: string, code: "runner_token_invalid" | "runner_token_expired") {
    super(message, { fault: "user", retryable: false, code });
  }
}

/** The signing key for runner tokens, derived so the master key itself never signs anything else. */
export function deriveRunnerTokenKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), "gust runner token v1", 32));
}

export function mintRunnerToken(key: Buffer, claims: RunnerTokenGrant, ttlMs: number, now: number = Date.now()): string {
  if (!(ttlMs > 0)) throw new RangeError(`runner token ttl must be positive, got ${ttlMs}`);
  const full: RunnerTokenClaims = { v: 1, ...claims, exp: now + ttlMs };
  const payload = Buffer.from(JSON.stringify(full)).toString("base64url");
  return `${payload}.${sign(key, payload).toString("base64url")}`;
}

export function verifyRunnerToken(key: Buffer, token: string, now: number = Date.now()): RunnerTokenClaims {
  const dot = token.indexOf(".");
  if (dot <= 0 || dot !== token.lastIndexOf(".")) throw new RunnerTokenError("malformed runner token", "runner_token_invalid");
  const payload = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), "base64url");
  const expected = sign(key, payload);
  // Length first: timingSafeEqual throws on different lengths, and the length is no secret.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new RunnerTokenError("runner token signature does not match", "runner_token_invalid");
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    throw new RunnerTokenError("malformed runner token", "runner_token_invalid");
  }
  if (!isClaims(claims)) throw new RunnerTokenError("runner token claims are not understood", "runner_token_invalid");
  if (claims.exp <= now) throw new RunnerTokenError("runner token expired", "runner_token_expired");
  return claims;
}

function sign(key: Buffer, payload: string): Buffer {
  return createHmac("sha256", key).update(payload).digest();
}

/** Signed by us, so this only guards against a token from another version of Gust. */
function isClaims(value: unknown): value is RunnerTokenClaims {
  if (typeof value !== "object" || value === null) return false;
  const c = value as Record<string, unknown>;
  return (
    c.v === 1 &&
    typeof c.run === "string" &&
    typeof c.pipelineRun === "string" &&
    typeof c.job === "string" &&
    Array.isArray(c.needs) &&
    c.needs.every((need) => typeof need === "string") &&
    typeof c.cacheScope === "string" &&
    typeof c.exp === "number" &&
    (c.source === undefined || isSource(c.source))
  );
}

function isSource(value: unknown): value is RunnerTokenSource {
  if (typeof value !== "object" || value === null) return false;
  const s = value as Record<string, unknown>;
  if (s.kind === "git-local") return typeof s.path === "string" && typeof s.commit === "string";
  return s.kind === "directory" && typeof s.path === "string";
}
