// ProviderErrors of the local target. Bad settings or requests are the user's (permanent); file
// system failures are the machine's, retryable when the condition can clear (disk full, too many
// open files).
import { ProviderError } from "../../errors";

export function userError(message: string, code: string): ProviderError {
  return new ProviderError(message, { retryable: false, fault: "user", code });
}

const TRANSIENT_IO = new Set(["ENOSPC", "EMFILE", "ENFILE", "EBUSY", "EAGAIN", "EINTR", "EDQUOT"]);

/** Wraps anything thrown by the file system or a child process; ProviderErrors pass unchanged. */
export function asProviderError(error: unknown, action: string): ProviderError {
  if (error instanceof ProviderError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const detail = error instanceof Error ? error.message : String(error);
  return new ProviderError(`${action}: ${detail}`, {
    retryable: code !== undefined && TRANSIENT_IO.has(code),
    code: "local_io_failed",
    cause: error,
  });
}
