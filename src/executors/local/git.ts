// Runs git and returns its stdout; failures carry git's own stderr, which says what went wrong.
import { execFile } from "node:child_process";

export class GitError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly notFound: boolean,
  ) {
    super(message);
    this.name = "GitError";
  }
}

export function git(args: string[], options: { cwd?: string; signal?: AbortSignal } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      {
        cwd: options.cwd,
        signal: options.signal,
        encoding: "buffer",
        maxBuffer: 1024 * 1024 * 1024,
        // Never prompt for credentials: there is nobody to answer.
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        if (options.signal?.aborted) return reject(options.signal.reason ?? error);
        const text = stderr.toString("utf8").trim();
        const notFound = (error as NodeJS.ErrnoException).code === "ENOENT";
        reject(new GitError(`git ${args[0] ?? ""} failed: ${text || error.message}`, text, notFound));
      },
    );
  });
}
