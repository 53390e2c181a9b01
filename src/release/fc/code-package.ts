// The code zip an FC version is published from: a .zip artifact as it is, a directory (or a single
// other file) zipped deterministically. Symbolic links stay links; sockets and FIFOs are no content.
import { lstat, open, readFile, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import { ProviderError } from "../../errors";
import { writeZip, ZipTooLargeError, type ZipEntry } from "./zip-writer";

const ZIP_MAGIC = [Buffer.from("PK\x03\x04", "latin1"), Buffer.from("PK\x05\x06", "latin1")];

async function startsLikeZip(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && ZIP_MAGIC.some((magic) => magic.equals(head));
  } finally {
    await handle.close();
  }
}

async function directoryEntries(root: string): Promise<ZipEntry[]> {
  const entries: ZipEntry[] = [];
  const walk = async (relative: string): Promise<void> => {
    const listing = await readdir(relative === "" ? root : path.join(root, relative), { withFileTypes: true });
    for (const item of listing) {
      const name = relative === "" ? item.name : `${relative}/${item.name}`;
      const full = path.join(root, name);
      if (item.isDirectory()) {
        await walk(name);
      } else if (item.isSymbolicLink()) {
        entries.push({ name, data: Buffer.from(await readlink(full), "utf8"), mode: 0o777, symlink: true });
      } else if (item.isFile()) {
        const stat = await lstat(full);
        entries.push({ name, data: await readFile(full), mode: stat.mode & 0o777 });
      }
    }
  };
  await walk("");
  return entries;
}

/** Reads or builds the zip for `artifactPath`. Missing or unreadable paths are the release's settings' fault. */
export async function codePackage(artifactPath: string): Promise<Buffer> {
  try {
    const stat = await lstat(artifactPath).catch(() => undefined);
    if (!stat) {
      throw new ProviderError(`release artifact ${artifactPath} does not exist`, { retryable: false, code: "artifact_missing", fault: "user" });
    }
    if (stat.isDirectory()) return writeZip(await directoryEntries(artifactPath));
    if (await startsLikeZip(artifactPath)) return await readFile(artifactPath);
    return writeZip([{ name: path.basename(artifactPath), data: await readFile(artifactPath), mode: stat.mode & 0o777 }]);
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    if (error instanceof ZipTooLargeError) {
      throw new ProviderError(`release artifact ${artifactPath} is too large for an FC code zip: ${error.message}`, { retryable: false, code: "artifact_too_large", fault: "user" });
    }
    throw new ProviderError(`reading release artifact ${artifactPath} failed: ${(error as Error).message}`, { retryable: false, code: "artifact_unreadable", fault: "user", cause: error });
  }
}
