// Lists the regular files and symlinks under a directory, as `/`-separated paths relative to it.
// Symlinked directories are not followed (no loops, nothing outside the tree).
import { readdir } from "node:fs/promises";
import path from "node:path";

export interface WalkOptions {
  /** Directories (relative path) not to descend into. */
  skipDirectory?: (relative: string) => boolean;
  signal?: AbortSignal;
}

export async function walkFiles(root: string, options: WalkOptions = {}): Promise<string[]> {
  const files: string[] = [];
  const walk = async (relativeDir: string): Promise<void> => {
    options.signal?.throwIfAborted();
    const entries = await readdir(relativeDir === "" ? root : path.join(root, relativeDir), {
      withFileTypes: true,
    });
    const subdirectories: Promise<void>[] = [];
    for (const entry of entries) {
      const relative = relativeDir === "" ? entry.name : `${relativeDir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!options.skipDirectory?.(relative)) subdirectories.push(walk(relative));
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        files.push(relative);
      }
      // Sockets, FIFOs and devices are not workspace content (and reading a FIFO would block).
    }
    await Promise.all(subdirectories);
  };
  await walk("");
  return files;
}
