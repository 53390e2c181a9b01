// Retrying what may succeed later: a connection refused or reset while Gust restarts, a 5xx from a
// replica going away. A 4xx is the request's own fault and is never retried.

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 8000 };

/** An answer with a status the caller did not expect. */
export class HttpStatusError extends Error {
  override readonly name = "HttpStatusError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Delay before attempt `attempt + 1` (attempt counts from 1): doubling, capped. */
export function backoffDelay(attempt: number, policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOTFOUND"]);

/** 5xx, 429 and network failures (fetch's TypeError, undici's UND_ERR_* codes, socket errnos). */
export function isTransient(error: unknown): boolean {
  if (error instanceof HttpStatusError) return error.status >= 500 || error.status === 429;
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === "string" && (NETWORK_CODES.has(code) || code.startsWith("UND_ERR_"))) return true;
    // fetch() reports every network failure as `TypeError: fetch failed` / `terminated`.
    if (current instanceof TypeError && /fetch failed|terminated/i.test(current.message)) return true;
  }
  return false;
}

export async function withRetry<T>(
  what: string,
  attempt: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
  log: (text: string) => void = () => undefined,
): Promise<T> {
  const sleep = policy.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (n >= policy.attempts || !isTransient(error)) throw error;
      const delay = backoffDelay(n, policy);
      log(`${what}: ${describe(error)}; retrying in ${delay} ms (attempt ${n + 1} of ${policy.attempts})`);
      await sleep(delay);
    }
  }
}

export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch's own message ("fetch failed") says nothing; the cause says what happened.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
