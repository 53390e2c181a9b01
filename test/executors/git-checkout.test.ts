// The workspace's git checkout: exactly the commit (work tree, index, detached HEAD), the source
// repository left as it was, from a work tree, a linked worktree, a bare, a shallow or a SHA-256
// repository on disk, and from a URL (file://, through git's transport) by a depth-1 fetch.
import { createHash } from "node:crypto";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commonGitDir, gitConfigText, localRepositoryPath } from "../../src/executors/local/git";
import { prepareWorkspace } from "../../src/executors/local/workspace";
import { gitIn } from "./local-harness";

let root: string;
let repo: string;
let first: string;
let second: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "gust-git-checkout-"));
  repo = path.join(root, "repo");
  await mkdir(path.join(repo, "bin"), { recursive: true });
  gitIn(repo, "init", "--quiet");
  await writeFile(path.join(repo, "version.txt"), "one\n");
  await writeFile(path.join(repo, "bin", "run.sh"), "#!/bin/sh\necho run\n", { mode: 0o755 });
  await symlink("version.txt", path.join(repo, "current"));
  gitIn(repo, "add", ".");
  gitIn(repo, "commit", "--quiet", "-m", "one");
  first = gitIn(repo, "rev-parse", "HEAD");
  await writeFile(path.join(repo, "version.txt"), "two\n");
  await writeFile(path.join(repo, "added.txt"), "added in two\n");
  gitIn(repo, "add", ".");
  gitIn(repo, "commit", "--quiet", "-m", "two");
  second = gitIn(repo, "rev-parse", "HEAD");
  // Left in the source's work tree and index: none of it may reach a checkout.
  await writeFile(path.join(repo, "version.txt"), "edited, not committed\n");
  await writeFile(path.join(repo, "untracked.txt"), "untracked\n");
  await writeFile(path.join(repo, "staged.txt"), "staged\n");
  gitIn(repo, "add", "staged.txt");
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let workspaces = 0;
async function checkout(repository: string, commit: string): Promise<{ workspace: string; log: string[] }> {
  const workspace = path.join(root, "work", `ws-${++workspaces}`);
  const log: string[] = [];
  await prepareWorkspace({ kind: "git", repository, commit }, workspace, { exclude: [], signal: new AbortController().signal, log: (text) => log.push(text) });
  return { workspace, log };
}

/** Every file of a directory with its type, mode, mtime (unless not wanted) and content (or link target) hashed. */
async function snapshot(dir: string, options: { mtimes?: boolean } = {}, relative = ""): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const entry of await readdir(path.join(dir, relative), { withFileTypes: true })) {
    const name = path.join(relative, entry.name);
    const full = path.join(dir, name);
    const info = await lstat(full);
    if (entry.isDirectory()) Object.assign(result, { [`${name}/`]: `dir ${info.mode.toString(8)}` }, await snapshot(dir, options, name));
    else if (entry.isSymbolicLink()) result[name] = `link ${await readlink(full)}`;
    else result[name] = `file ${info.mode.toString(8)} ${options.mtimes === false ? "" : info.mtimeMs} ${createHash("sha256").update(await readFile(full)).digest("hex")}`;
  }
  return result;
}

/** The checkout is exactly `commit`: detached HEAD there, nothing changed or extra, files as committed. */
async function expectExactly(workspace: string, commit: string): Promise<void> {
  expect(await readFile(path.join(workspace, ".git", "HEAD"), "utf8")).toBe(`${commit}\n`);
  expect(gitIn(workspace, "rev-parse", "HEAD")).toBe(commit);
  expect(gitIn(workspace, "status", "--porcelain", "--untracked-files=all", "--ignored")).toBe("");
  // The index holds exactly the commit's tree (modes and ids); nothing written to find out.
  expect(gitIn(workspace, "diff-index", "--cached", "--exit-code", "HEAD")).toBe("");
}

describe("git checkout of a workspace", () => {
  it("checks out exactly the commit from a work tree and leaves the source untouched", async () => {
    const before = await snapshot(repo);
    const { workspace, log } = await checkout(repo, first);
    expect(await snapshot(repo)).toEqual(before);

    await expectExactly(workspace, first);
    expect(await readFile(path.join(workspace, "version.txt"), "utf8")).toBe("one\n");
    expect((await lstat(path.join(workspace, "bin", "run.sh"))).mode & 0o111).not.toBe(0);
    expect(await readlink(path.join(workspace, "current"))).toBe("version.txt");
    expect((await readdir(workspace)).sort()).toEqual([".git", "bin", "current", "version.txt"]);
    expect(gitIn(workspace, "log", "--format=%H")).toBe(first);
    expect(gitIn(workspace, "remote", "get-url", "origin")).toBe(repo);
    expect(log).toEqual([expect.stringMatching(new RegExp(`^workspace: checked out ${first} from ${repo} in \\d+ ms$`))]);

    // Work in the workspace (a commit, a gc) stays there. (Writing an object the source has
    // already may refresh that file's mtime, as git does for any alternate, `clone --shared` too.)
    const contents = await snapshot(repo, { mtimes: false });
    await writeFile(path.join(workspace, "made-by-a-step.txt"), "x\n");
    gitIn(workspace, "add", ".");
    gitIn(workspace, "commit", "--quiet", "-m", "in the workspace");
    gitIn(workspace, "gc", "--quiet");
    expect(await snapshot(repo, { mtimes: false })).toEqual(contents);
    expect(gitIn(repo, "rev-parse", "HEAD")).toBe(second);
  });

  it("resolves a commit given by name in the source, read-only", async () => {
    const before = await snapshot(repo);
    const byBranch = await checkout(repo, "main");
    await expectExactly(byBranch.workspace, second);
    const byPrefix = await checkout(repo, first.slice(0, 10));
    await expectExactly(byPrefix.workspace, first);
    expect(await snapshot(repo)).toEqual(before);
  });

  it("checks out from a linked worktree, a bare and a shallow repository", async () => {
    const linked = path.join(root, "linked");
    gitIn(repo, "worktree", "add", "--quiet", "--detach", linked, first);
    const bare = path.join(root, "bare.git");
    gitIn(root, "clone", "--quiet", "--bare", repo, bare);
    const shallow = path.join(root, "shallow");
    gitIn(root, "clone", "--quiet", "--depth=1", pathToFileURL(repo).href, shallow);

    for (const [source, commit] of [[linked, second], [bare, first], [shallow, second]] as const) {
      const before = await snapshot(source);
      const { workspace } = await checkout(source, commit);
      await expectExactly(workspace, commit);
      expect(await snapshot(source)).toEqual(before);
    }
    // The shallow source's history ends at its boundary, and so does the workspace's.
    const { workspace } = await checkout(shallow, second);
    expect(gitIn(workspace, "log", "--format=%H")).toBe(second);
    expect(await readFile(path.join(workspace, "added.txt"), "utf8")).toBe("added in two\n");
  });

  it("checks out from a SHA-256 repository, by id and by name", async () => {
    const sha256 = path.join(root, "sha256");
    await mkdir(sha256);
    gitIn(sha256, "init", "--quiet", "--object-format=sha256");
    await writeFile(path.join(sha256, "file.txt"), "sha-256\n");
    gitIn(sha256, "add", ".");
    gitIn(sha256, "commit", "--quiet", "-m", "one");
    const commit = gitIn(sha256, "rev-parse", "HEAD");
    expect(commit).toHaveLength(64);
    for (const given of [commit, "main"]) {
      const { workspace } = await checkout(sha256, given);
      await expectExactly(workspace, commit);
      expect(await readFile(path.join(workspace, "file.txt"), "utf8")).toBe("sha-256\n");
    }
  });

  it("fetches just the commit from a URL, also one that is no branch's tip", async () => {
    const before = await snapshot(repo);
    const url = pathToFileURL(repo).href;
    const { workspace } = await checkout(url, first);
    await expectExactly(workspace, first);
    expect(await readFile(path.join(workspace, ".git", "shallow"), "utf8")).toBe(`${first}\n`);
    expect(await readFile(path.join(workspace, ".git", "objects", "info", "alternates")).catch(() => undefined)).toBeUndefined();
    expect(gitIn(workspace, "remote", "get-url", "origin")).toBe(url);
    const byBranch = await checkout(url, "main");
    await expectExactly(byBranch.workspace, second);
    expect(await snapshot(repo)).toEqual(before);
  });

  it("refuses what is not a commit: no repository is retryable, a missing or non-commit object is not", async () => {
    await expect(checkout(path.join(root, "no-such-repo"), first)).rejects.toMatchObject({ code: "git_clone_failed", retryable: true, message: expect.stringContaining("no-such-repo") });
    await expect(checkout("", first)).rejects.toMatchObject({ code: "git_clone_failed", message: expect.stringContaining("no repository given") });
    await expect(checkout(repo, "0".repeat(40))).rejects.toMatchObject({ code: "git_checkout_failed", retryable: false });
    await expect(checkout(repo, gitIn(repo, "rev-parse", `${first}^{tree}`))).rejects.toMatchObject({ code: "git_checkout_failed", retryable: false });
    await expect(checkout(repo, "no-such-branch")).rejects.toMatchObject({ code: "git_checkout_failed", retryable: false });
  });
});

describe("git directory helpers", () => {
  it("tells a path on this machine from a URL the way git does", () => {
    expect(localRepositoryPath("/srv/repo")).toBe("/srv/repo");
    expect(localRepositoryPath("repo")).toBe(path.resolve("repo"));
    expect(localRepositoryPath("./a:b")).toBe(path.resolve("a:b"));
    expect(localRepositoryPath("https://github.com/acme/app.git")).toBeUndefined();
    expect(localRepositoryPath("file:///srv/repo")).toBeUndefined();
    expect(localRepositoryPath("git@github.com:acme/app.git")).toBeUndefined();
  });

  it("finds the common git directory of a work tree and nothing for a plain directory", async () => {
    expect(await commonGitDir(repo)).toBe(path.join(repo, ".git"));
    expect(await commonGitDir(path.join(repo, "bin"))).toBeUndefined();
  });

  it("writes a config that says SHA-256 when the ids are, and quotes the origin", () => {
    expect(gitConfigText({ commit: "a".repeat(40), origin: "/srv/repo" })).toContain("repositoryformatversion = 0");
    const sha256 = gitConfigText({ commit: "a".repeat(64), origin: '/srv/a "b"\\c' });
    expect(sha256).toContain("repositoryformatversion = 1\n\tbare = false\n[extensions]\n\tobjectformat = sha256");
    expect(sha256).toContain('url = "/srv/a \\"b\\"\\\\c"');
  });
});
