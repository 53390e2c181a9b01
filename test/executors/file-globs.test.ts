import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFiles } from "../../src/executors/local/file-globs";

describe("findFiles", () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), "gust-globs-"));
    for (const file of ["dist/app.js", "dist/app.js.map", "dist/sub/.hidden", "src/a.ts", "src/b.txt", "top.txt", ".git/HEAD"]) {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), file);
    }
    await symlink("top.txt", path.join(root, "link.txt"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("treats a directory name as everything under it, with or without ./ and /", async () => {
    const all = ["dist/app.js", "dist/app.js.map", "dist/sub/.hidden"];
    expect(await findFiles(root, ["dist"])).toEqual(all);
    expect(await findFiles(root, ["dist/"])).toEqual(all);
    expect(await findFiles(root, ["./dist"])).toEqual(all);
  });

  it("matches globs, dot files included, .git left out unless named", async () => {
    expect(await findFiles(root, ["**/*.txt"])).toEqual(["link.txt", "src/b.txt", "top.txt"]);
    expect(await findFiles(root, ["**/.hidden"])).toEqual(["dist/sub/.hidden"]);
    expect(await findFiles(root, ["**"])).not.toContain(".git/HEAD");
    expect(await findFiles(root, [".git"])).toEqual([".git/HEAD"]);
  });

  it("applies !exclusions", async () => {
    expect(await findFiles(root, ["dist", "!**/*.map", "!dist/sub"])).toEqual(["dist/app.js"]);
  });

  it("matches nothing outside the root or for missing paths", async () => {
    expect(await findFiles(root, ["../", "../*", "/etc/passwd", "dist/../../x", "missing", ""])).toEqual([]);
  });
});
