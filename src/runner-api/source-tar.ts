// The workspace of a job whose source the pod cannot clone (a repository or a directory on
// Gust's machine), as a tar stream. A commit: `git archive` of exactly that commit. A directory:
// what the local executor copies — tracked and untracked-but-not-ignored files of a git work tree,
// else the whole directory — minus Gust's own directories inside it.
import { spawn } from "node:child_process";
import { lstat, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { GustError } from "../errors";
import { git } from "../executors/local/git";
import { walkFiles } from "../executors/local/walk-files";
import { packFiles } from "../runner/tar-stream";
import type { RunnerTokenSource } from "./runner-token";

export async function sourceTar(source: RunnerTokenSource, exclude: readonly string[]): Promise<Readable> {
  return source.kind === "git-local" ? commitTar(source.path, source.commit) : directoryTar(source.path, exclude);
}

async function commitTar(repository: string, commit: string): Promise<Readable> {
  let id: string;
  try {
    id = (await git(["-C", repository, "rev-parse", "--verify", "--end-of-options", `${commit}^{commit}`])).toString("utf8").trim();
  } catch (error) {
    throw new GustError(`commit ${commit} is not in ${repository}`, { fault: "infrastructure", retryable: false, code: "commit_not_found", cause: error });
  }
  // Streamed from git's stdout; a failure half-way ends the response early, which the pod's tar
  // reader reports as a truncated archive.
  const child = spawn("git", ["-C", repository, "archive", "--format=tar", id], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-2000)));
  child.on("close", (code) => {
    if (code !== 0) child.stdout.destroy(new Error(`git archive failed: ${stderr.trim() || `exit ${code}`}`));
  });
  child.on("error", (error) => child.stdout.destroy(error));
  return child.stdout;
}

async function directoryTar(directory: string, exclude: readonly string[]): Promise<Readable> {
  const root = path.resolve(directory);
  if (!(await stat(root).then((s) => s.isDirectory(), () => false))) {
    throw new GustError(`workspace source ${root} is not a directory`, { fault: "infrastructure", retryable: false, code: "source_not_found" });
  }
  const excluded = excludedPrefixes(root, exclude);
  const isExcluded = (relative: string): boolean => excluded.some((prefix) => relative === prefix || relative.startsWith(`${prefix}/`));
  const listed = await gitListing(root);
  const candidates = listed ? listed.filter((relative) => !isExcluded(relative)) : await walkFiles(root, { skipDirectory: isExcluded });
  // `git ls-files` also names files deleted from the work tree but still in the index.
  const present = await Promise.all(candidates.map((relative) => lstat(path.join(root, relative)).then(() => relative, () => undefined)));
  return packFiles(root, present.filter((relative): relative is string => relative !== undefined).sort());
}

/**
 * Undefined when the directory is no git work tree, or git cannot list it: then the whole
 * directory goes, as the local executor copies it.
 */
async function gitListing(directory: string): Promise<string[] | undefined> {
  try {
    const output = await git(["ls-files", "-co", "--exclude-standard", "-z"], { cwd: directory });
    const files = new Set(output.toString("utf8").split("\0"));
    files.delete("");
    return [...files];
  } catch {
    return undefined;
  }
}

function excludedPrefixes(root: string, exclude: readonly string[]): string[] {
  const prefixes: string[] = [];
  for (const dir of exclude) {
    const relative = path.relative(root, path.resolve(dir));
    if (relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative)) prefixes.push(relative.split(path.sep).join("/"));
  }
  return prefixes;
}
