// Kubernetes API failures as one typed error that says whether trying again can help, and a retry
// loop that honours the server's Retry-After (API priority and fairness answers 429 with one).
import { ExecutorError } from "../../errors";

export class KubeApiError extends ExecutorError {
  constructor(
    message: string,
    readonly status: number,
    readonly reason: string,
    options: { retryable: boolean; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, { retryable: options.retryable, code: `kubernetes_${reason ? snake(reason) : status}`, cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
  }
  readonly retryAfterMs: number | undefined;
}

function snake(text: string): string {
  return text.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

interface StatusBody {
  kind?: string;
  reason?: string;
  message?: string;
  code?: number;
}

function parseBody(body: unknown): StatusBody {
  if (typeof body === "string") {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return { message: body.slice(0, 500) };
    }
  }
  return typeof body === "object" && body !== null ? (body as StatusBody) : {};
}

/** Turns what the client library (or a raw request) threw into a KubeApiError. */
export function kubeApiErrorFrom(error: unknown): KubeApiError {
  if (error instanceof KubeApiError) return error;
  const record = error as { code?: unknown; body?: unknown; headers?: Record<string, unknown>; message?: string };
  if (typeof record.code === "number" && record.code >= 100 && record.code < 600) {
    const body = parseBody(record.body);
    const status = record.code;
    const reason = body.reason ?? "";
    const retryAfter = Number(record.headers?.["retry-after"] ?? record.headers?.["Retry-After"]);
    const quota = status === 403 && /exceeded quota/i.test(body.message ?? "");
    const retryable = status === 429 || status >= 500 || quota || status === 409 && reason === "Conflict";
    return new KubeApiError(`Kubernetes API ${status}${reason ? ` ${reason}` : ""}: ${body.message ?? "no message"}`, status, quota ? "ExceededQuota" : reason, {
      retryable,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
      cause: error,
    });
  }
  // No HTTP answer: the connection failed. Worth another try.
  return new KubeApiError(`Kubernetes API unreachable: ${record.message ?? String(error)}`, 0, "", { retryable: true, cause: error });
}

export interface RetryOptions {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  signal?: AbortSignal;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 6, baseDelayMs: 200, maxDelayMs: 10_000 };

/** Calls `work` again on retryable API errors, with exponential backoff and jitter (or Retry-After). */
export async function withKubeRetry<T>(work: () => Promise<T>, options: RetryOptions = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (raw) {
      const error = kubeApiErrorFrom(raw);
      if (!error.retryable || attempt >= options.attempts || options.signal?.aborted) throw error;
      const backoff = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      const delay = error.retryAfterMs ?? backoff / 2 + Math.random() * (backoff / 2);
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, options.maxDelayMs)));
    }
  }
}
