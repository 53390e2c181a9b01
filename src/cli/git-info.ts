// What `gust run` needs to know about the repository it runs in: commit, branch, and resolving --commit.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { InputError } from "../errors";

const exec = promisify(execFile);

async function git(dir: string, args: string[], raw = false): Promise<string | undefined> {
  try {
    const { stdout } = await exec("git", ["-C", dir, ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    return raw ? stdout : stdout.trim();
  } catch {
    return undefined;
  }
}

export interface RepositoryState {
  isGit: boolean;
  sha: string;
  branch?: string;
}

export async function repositoryState(dir: string): Promise<RepositoryState> {
  const sha = await git(dir, ["rev-parse", "HEAD"]);
  if (!sha) return { isGit: false, sha: "0000000000000000000000000000000000000000" };
  const branch = await git(dir, ["symbolic-ref", "--short", "-q", "HEAD"]);
  return { isGit: true, sha, ...(branch ? { branch } : {}) };
}

export async function resolveCommit(dir: string, ref: string): Promise<string> {
  const sha = await git(dir, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
  if (!sha) throw new InputError(`--commit ${ref}: not a commit in ${dir}`, "not_found");
  return sha;
}

/** The file of a pipeline as it is at a commit (for `--commit`). */
export async function fileAtCommit(dir: string, sha: string, path: string): Promise<string | undefined> {
  return git(dir, ["show", `${sha}:${path}`], true);
}

/** Pipeline files (path → text) as they are at a commit. */
export async function pipelineTextsAtCommit(dir: string, sha: string): Promise<Map<string, string>> {
  const listing = await git(dir, ["ls-tree", "-r", "--name-only", sha, "--", ".gust.yml", ".gust.yaml", ".gust"]);
  const texts = new Map<string, string>();
  for (const path of (listing ?? "").split("\n").filter(Boolean)) {
    const text = await fileAtCommit(dir, sha, path);
    if (text !== undefined) texts.set(path, text);
  }
  return texts;
}
