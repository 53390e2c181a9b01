// Typed errors shared by every layer. Each says whose fault it is and whether retrying can help, so
// callers (the scheduler, the HTTP onError, the CLI) decide without parsing messages.
// Leaf module: imports nothing.

/** Who caused the failure. */
export type Fault =
  | "user" // bad input: pipeline file, CLI argument, API body. Fix the input; retrying won't help.
  | "step" // a pipeline step failed (non-zero exit, timeout). The user's code, not Gust's.
  | "infrastructure" // the executor, a forge, a provider or the database failed.
  | "internal"; // a bug in Gust.

export interface GustErrorOptions {
  fault: Fault;
  /** `true`: the same call may succeed later (network, quota, lease lost). */
  retryable: boolean;
  code: string;
  cause?: unknown;
}

export class GustError extends Error {
  readonly fault: Fault;
  readonly retryable: boolean;
  readonly code: string;

  constructor(message: string, options: GustErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.fault = options.fault;
    this.retryable = options.retryable;
    this.code = options.code;
  }
}

/** Bad input from a person: permanent until the input changes. */
export class InputError extends GustError {
  constructor(message: string, code = "invalid_input", cause?: unknown) {
    super(message, { fault: "user", retryable: false, code, cause });
  }
}

/** The executor could not run the job (not the job's own failure). */
export class ExecutorError extends GustError {
  constructor(message: string, options: { retryable: boolean; code?: string; cause?: unknown }) {
    super(message, {
      fault: "infrastructure",
      retryable: options.retryable,
      code: options.code ?? "executor_failed",
      cause: options.cause,
    });
  }
}

export function isGustError(value: unknown): value is GustError {
  return value instanceof GustError;
}

/**
 * The database (or the data Gust keeps in it) failed: connection lost, serialization failure,
 * deadlock, a sealed value that does not open. `retryable` says whether the same call may succeed.
 */
export class StoreError extends GustError {
  constructor(message: string, options: { retryable: boolean; code?: string; cause?: unknown }) {
    super(message, {
      fault: "infrastructure",
      retryable: options.retryable,
      code: options.code ?? "store_failed",
      cause: options.cause,
    });
  }
}

/**
 * A forge (GitHub, GitLab, a git repository on disk) failed or refused a call. `retryAfterMs` is
 * the wait the forge asked for (Retry-After, rate-limit reset), when it said one; `status` is the
 * HTTP status when there was a response.
 */
export class ForgeError extends GustError {
  readonly retryAfterMs?: number;
  readonly status?: number;

  constructor(
    message: string,
    options: { retryable: boolean; code?: string; cause?: unknown; retryAfterMs?: number; status?: number },
  ) {
    super(message, {
      fault: "infrastructure",
      retryable: options.retryable,
      code: options.code ?? "forge_failed",
      cause: options.cause,
    });
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.status !== undefined) this.status = options.status;
  }
}

/**
 * A deploy target (FC, SAE, the local router) failed or refused a call. `retryAfterMs` is the wait
 * the service asked for (throttling); `status` the HTTP status when there was a response. Fault
 * "user" when the release's settings are wrong (a missing runtime, an unknown application).
 */
export class ProviderError extends GustError {
  readonly retryAfterMs?: number;
  readonly status?: number;

  constructor(
    message: string,
    options: { retryable: boolean; code?: string; cause?: unknown; retryAfterMs?: number; status?: number; fault?: "user" | "infrastructure" },
  ) {
    super(message, {
      fault: options.fault ?? "infrastructure",
      retryable: options.retryable,
      code: options.code ?? "provider_failed",
      cause: options.cause,
    });
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.status !== undefined) this.status = options.status;
  }
}
