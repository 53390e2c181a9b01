// Creates a job's workspace: a copy of a local working tree (what git would commit: tracked and
// untracked-but-not-ignored files, so node_modules or dist stay behind) or a clean git checkout.
import { mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { ExecutorError } from "../../errors";
import type { WorkspaceSource } from "../executor";
import { copyFiles } from "./copy-files";
import { formatBytes } from "./format";
import { commonGitDir, git, GitError, isObjectId, localRepositoryPath, writeGitDir, type GitDirSpec } from "./git";
import { walkFiles } from "./walk-files";

export interface PrepareOptions {
  /** Absolute directories never copied even when inside the source (the executor's own dirs). */
  exclude: string[];
  signal: AbortSignal;
  log: (text: string) => void;
}

export async function prepareWorkspace(
  source: WorkspaceSource,
  workspace: string,
  options: PrepareOptions,
): Promise<void> {
  const started = performance.now();
  const elapsed = (): string => `${Math.round(performance.now() - started)} ms`;
  await rm(workspace, { recursive: true, force: true }); // a leftover from a crashed run
  await mkdir(path.dirname(workspace), { recursive: true });

  if (source.kind === "git") {
    await cloneCommit(source.repository, source.commit, workspace, options.signal);
    options.log(`workspace: checked out ${source.commit} from ${source.repository} in ${elapsed()}`);
    return;
  }

  const from = path.resolve(source.path);
  const isDirectory = await stat(from).then((s) => s.isDirectory(), () => false);
  if (!isDirectory) {
    throw new ExecutorError(`workspace source ${from} is not a directory`, {
      retryable: false,
      code: "workspace_source_missing",
    });
  }
  await mkdir(workspace);
  const excluded = excludedPrefixes(from, options.exclude);
  const isExcluded = (relative: string): boolean =>
    excluded.some((prefix) => relative === prefix || relative.startsWith(`${prefix}/`));

  const listed = await listWorkingTree(from, options.signal);
  let files: string[];
  let how: string;
  if (listed.files) {
    files = listed.files.filter((relative) => !isExcluded(relative));
    how = "tracked and unignored files";
  } else {
    if (listed.warning) options.log(`workspace: warning: ${listed.warning}; copying the whole directory`);
    files = await walkFiles(from, { skipDirectory: isExcluded, signal: options.signal });
    how = "not a git work tree, whole directory";
  }
  const copied = await copyFiles(from, workspace, files, { signal: options.signal });
  options.log(
    `workspace: copied ${copied.files} files (${formatBytes(copied.bytes)}) from ${from} in ${elapsed()} (${how})`,
  );
}

export async function removeWorkspace(workspace: string): Promise<void> {
  await rm(workspace, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * A detached checkout of exactly `commit`, its .git written directly (no `git init`). From a
 * repository on this machine the objects are borrowed through objects/info/alternates — no clone,
 * no upload-pack, nothing written into the source — and one `git read-tree` fills the work tree and
 * the index. From a URL, the commit alone is fetched (depth 1), or the branches and tags when the
 * server refuses to hand out a commit by its id.
 */
async function cloneCommit(repository: string, commit: string, workspace: string, signal: AbortSignal): Promise<void> {
  const local = localRepositoryPath(repository);
  const known = isObjectId(commit);
  // Where a commit given by name (a branch, an abbreviation) is resolved: the source itself (only
  // read), or what was fetched.
  let resolveIn = path.join(workspace, ".git");
  let spec: GitDirSpec = { ...(known ? { commit } : {}), origin: repository };
  try {
    // An empty string would name the working directory, a repository nobody meant.
    if (repository.trim() === "") throw new Error("no repository given");
    await mkdir(workspace);
    if (local !== undefined) {
      const source = await commonGitDir(local);
      if (source === undefined) throw new Error(`${local} is not a git repository`);
      resolveIn = source;
      spec = { ...spec, origin: local, alternate: path.join(source, "objects"), shallow: path.join(source, "shallow") };
      await writeGitDir(workspace, spec);
    } else {
      await writeGitDir(workspace, spec);
      await fetchCommit(repository, commit, workspace, signal);
    }
  } catch (error) {
    if (signal.aborted) throw error;
    throw new ExecutorError(`cannot clone ${repository}: ${message(error)}`, {
      retryable: true,
      code: "git_clone_failed",
      cause: error,
    });
  }
  try {
    const head = known ? commit : await resolveCommit(resolveIn, local !== undefined ? [commit] : [commit, `origin/${commit}`], signal);
    if (!known) await writeGitDir(workspace, { ...spec, commit: head });
    // ^{commit}: an id that names a tree or a blob is refused rather than checked out.
    await git(["-C", workspace, "read-tree", "--reset", "-u", `${head}^{commit}`], { signal });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new ExecutorError(`cannot check out ${commit} from ${repository}: ${message(error)}`, {
      retryable: false,
      code: "git_checkout_failed",
      cause: error,
    });
  }
}

/** Fetches what the checkout of `commit` needs into the workspace's repository. */
async function fetchCommit(repository: string, commit: string, workspace: string, signal: AbortSignal): Promise<void> {
  if (isObjectId(commit)) {
    try {
      await git(["-C", workspace, "fetch", "--quiet", "--no-tags", "--depth=1", repository, commit], { signal });
      return;
    } catch (error) {
      if (signal.aborted) throw error;
    }
  }
  await git(["-C", workspace, "fetch", "--quiet", "--no-tags", repository, "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"], { signal });
}

/** The full id of the first of `names` that is a commit in the repository at `gitDir`. */
async function resolveCommit(gitDir: string, names: string[], signal: AbortSignal): Promise<string> {
  let failure: unknown;
  for (const name of names) {
    try {
      return (await git(["--git-dir", gitDir, "rev-parse", "--verify", "--end-of-options", `${name}^{commit}`], { signal })).toString("utf8").trim();
    } catch (error) {
      if (signal.aborted) throw error;
      failure ??= error;
    }
  }
  throw failure;
}

/** What `git ls-files` lists, or why the directory is copied whole instead. */
async function listWorkingTree(
  directory: string,
  signal: AbortSignal,
): Promise<{ files?: string[]; warning?: string }> {
  try {
    const output = await git(["ls-files", "-co", "--exclude-standard", "-z"], { cwd: directory, signal });
    const files = new Set(output.toString("utf8").split("\0"));
    files.delete("");
    return { files: [...files] };
  } catch (error) {
    if (signal.aborted) throw error;
    if (error instanceof GitError && (error.notFound || /not a git repository/i.test(error.stderr))) return {};
    return { warning: message(error) };
  }
}

/** The excluded directories that lie inside `root`, relative to it with `/` separators. */
function excludedPrefixes(root: string, exclude: string[]): string[] {
  // `.gust/` itself holds pipeline files and is copied; the executor's own directories are not.
  const prefixes: string[] = [];
  for (const dir of exclude) {
    const relative = path.relative(root, path.resolve(dir));
    if (relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative)) {
      prefixes.push(relative.split(path.sep).join("/"));
    }
  }
  return prefixes;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
