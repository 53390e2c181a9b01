// Copies a list of relative paths from one tree to another: symlinks stay symlinks, file modes are
// kept (copyFile preserves them), listed paths that no longer exist are skipped.
import { copyFile, lstat, mkdir, readlink, rm, symlink } from "node:fs/promises";
import path from "node:path";
import { walkFiles } from "./walk-files";

export interface CopyResult {
  files: number;
  bytes: number;
}

export interface CopyOptions {
  /**
   * Remove what is at the destination first. Needed when copying into an existing workspace, so a
   * symlink planted there is replaced instead of written through (to somewhere outside).
   */
  replace?: boolean;
  signal?: AbortSignal;
}

/** Enough parallelism to hide fs latency without running out of file descriptors. */
const CONCURRENCY = 16;

export async function copyFiles(
  sourceRoot: string,
  targetRoot: string,
  relativePaths: readonly string[],
  options: CopyOptions = {},
): Promise<CopyResult> {
  const result: CopyResult = { files: 0, bytes: 0 };
  const directories = new Map<string, Promise<unknown>>();
  const ensureDirectory = (dir: string): Promise<unknown> => {
    let made = directories.get(dir);
    if (!made) {
      made = mkdir(dir, { recursive: true });
      directories.set(dir, made);
    }
    return made;
  };

  const copyOne = async (relative: string): Promise<void> => {
    options.signal?.throwIfAborted();
    const source = path.join(sourceRoot, relative);
    const target = path.join(targetRoot, relative);
    let stats;
    try {
      stats = await lstat(source);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return; // listed, then deleted
      throw error;
    }
    if (stats.isDirectory()) {
      // A git submodule shows up as one entry: copy what it contains.
      const inner = await walkFiles(source, options.signal ? { signal: options.signal } : {});
      const copied = await copyFiles(source, target, inner, options);
      result.files += copied.files;
      result.bytes += copied.bytes;
      return;
    }
    if (!stats.isFile() && !stats.isSymbolicLink()) return;
    await ensureDirectory(path.dirname(target));
    if (options.replace) await rm(target, { force: true });
    if (stats.isSymbolicLink()) {
      await symlink(await readlink(source), target);
    } else {
      await copyFile(source, target);
      result.bytes += stats.size;
    }
    result.files += 1;
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < relativePaths.length) {
      const relative = relativePaths[next++];
      if (relative !== undefined) await copyOne(relative);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, relativePaths.length) }, worker));
  return result;
}
