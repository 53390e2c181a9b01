// Runs git in a repository on disk and returns its stdout; a failure keeps git's stderr, which says
// what went wrong ("Not a valid object name", "not a git repository").
import { execFile } from "node:child_process";

export class LocalGitError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    /** git itself is not installed. */
    readonly gitMissing: boolean,
  ) {
    super(message);
    this.name = "LocalGitError";
  }
}

export function git(dir: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      // Paths are file names, never patterns: a file called `*.yml` is read, not globbed.
      ["--literal-pathspecs", "-C", dir, ...args],
      { encoding: "buffer", maxBuffer: 256 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const text = stderr.toString("utf8").trim();
        const gitMissing = (error as NodeJS.ErrnoException).code === "ENOENT";
        reject(new LocalGitError(`git ${args[0] ?? ""} failed in ${dir}: ${text || error.message}`, text, gitMissing));
      },
    );
  });
}

export interface TreeEntry {
  mode: string;
  type: "blob" | "tree" | "commit";
  object: string;
  path: string;
}

/** `git ls-tree -z` output: `<mode> <type> <object>\t<path>\0`. */
export function parseLsTree(output: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const record of output.toString("utf8").split("\0")) {
    const tab = record.indexOf("\t");
    if (tab < 0) continue;
    const [mode, type, object] = record.slice(0, tab).split(" ");
    if (!mode || !object || (type !== "blob" && type !== "tree" && type !== "commit")) continue;
    entries.push({ mode, type, object, path: record.slice(tab + 1) });
  }
  return entries;
}
