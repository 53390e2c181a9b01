// Runs git and returns its stdout; failures carry git's own stderr, which says what went wrong.
import { execFile } from "node:child_process";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";

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

// The few files of a git directory that need no git process to read or write: a checkout starts
// one process fewer without `git init` (and its template files), and none to find the source's
// object store.

/**
 * The path on this machine a repository string names (absolute, or relative to the working
 * directory); undefined for what git fetches: a URL (file:// too, which git reaches through its
 * transport like any other) or an scp-like `host:path`.
 */
export function localRepositoryPath(repository: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repository)) return undefined;
  // git's own rule: a colon before the first slash makes it `host:path`.
  const colon = repository.indexOf(":");
  const slash = repository.indexOf("/");
  if (colon > 0 && (slash === -1 || colon < slash)) return undefined;
  return path.resolve(repository);
}

/**
 * The common git directory (objects, refs, shallow) of the repository at `directory`: a work tree
 * whose .git is a directory or a `gitdir:` file (linked worktrees, submodules), or a bare
 * repository. Undefined when it is none of these, which is where `git clone` would fail too.
 */
export async function commonGitDir(directory: string): Promise<string | undefined> {
  const dotGit = path.join(directory, ".git");
  let gitDir: string | undefined;
  const kind = await stat(dotGit).then((s) => (s.isDirectory() ? "directory" : "file"), () => undefined);
  if (kind === "directory") gitDir = dotGit;
  else if (kind === "file") {
    const pointer = /^gitdir: (.+)$/m.exec(await readFile(dotGit, "utf8"))?.[1]?.trim();
    if (pointer !== undefined) gitDir = path.resolve(directory, pointer);
  } else if (await isFile(path.join(directory, "HEAD"))) {
    gitDir = directory;
  }
  if (gitDir === undefined) return undefined;
  const common = await readFile(path.join(gitDir, "commondir"), "utf8").then((text) => path.resolve(gitDir, text.trim()), () => gitDir);
  const looksLikeOne = (await isDirectory(path.join(common, "objects"))) && (await isDirectory(path.join(common, "refs")));
  return looksLikeOne ? common : undefined;
}

export interface GitDirSpec {
  /** HEAD, detached: a full object id; absent: an unborn branch, as after `git init`. */
  commit?: string;
  /** Recorded as remote `origin`, as `git clone` does. */
  origin: string;
  /** An objects directory to borrow from (objects/info/alternates): nothing is copied. */
  alternate?: string;
  /** The source's shallow file (its boundary commits), so history in the workspace ends where the source's does. */
  shallow?: string;
}

/**
 * Creates `<workspace>/.git` as `git init` would, HEAD detached at the commit (not checked out
 * yet). Again once the commit is known, when it was not: the id decides the object format.
 */
export async function writeGitDir(workspace: string, spec: GitDirSpec): Promise<void> {
  const dir = path.join(workspace, ".git");
  await mkdir(path.join(dir, "objects", "info"), { recursive: true });
  await mkdir(path.join(dir, "refs", "heads"), { recursive: true });
  await mkdir(path.join(dir, "refs", "tags"), { recursive: true });
  await writeFile(path.join(dir, "config"), gitConfigText(spec));
  await writeFile(path.join(dir, "HEAD"), spec.commit !== undefined ? `${spec.commit}\n` : "ref: refs/heads/main\n");
  if (spec.alternate !== undefined) await writeFile(path.join(dir, "objects", "info", "alternates"), `${spec.alternate}\n`);
  if (spec.shallow !== undefined) {
    const shallow = await readFile(spec.shallow).catch(() => undefined);
    if (shallow) await writeFile(path.join(dir, "shallow"), shallow);
  }
}

/** The config `git clone` leaves: a non-bare repository whose origin is the source. */
export function gitConfigText(spec: Pick<GitDirSpec, "commit" | "origin">): string {
  // A 64-digit id is SHA-256, which the repository format has to say.
  const sha256 = spec.commit?.length === 64;
  return [
    "[core]",
    `\trepositoryformatversion = ${sha256 ? 1 : 0}`,
    "\tbare = false",
    ...(sha256 ? ["[extensions]", "\tobjectformat = sha256"] : []),
    '[remote "origin"]',
    `\turl = ${quoteConfigValue(spec.origin)}`,
    "\tfetch = +refs/heads/*:refs/remotes/origin/*",
    "",
  ].join("\n");
}

/** A full object id (SHA-1 or SHA-256), as opposed to a ref name or an abbreviation. */
export function isObjectId(text: string): boolean {
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(text);
}

function quoteConfigValue(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\t/g, "\\t")}"`;
}

async function isFile(file: string): Promise<boolean> {
  return stat(file).then((s) => s.isFile(), () => false);
}

async function isDirectory(dir: string): Promise<boolean> {
  return stat(dir).then((s) => s.isDirectory(), () => false);
}
