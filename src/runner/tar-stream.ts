// Tar as streams, never a whole archive in memory or on disk: pack a list of workspace paths,
// unpack a stream into a directory. Used by the in-pod runner and the runner API alike, so what a
// pod uploads and what it downloads follow the same rules.
import { once } from "node:events";
import { Readable } from "node:stream";
import { Pack, Unpack } from "tar";

export interface UnpackResult {
  files: number;
  bytes: number;
}

/**
 * A tar of `relativePaths` under `root`: symlinks stay symlinks, modes are kept, owners and
 * devices are left out (`portable`). A listed directory brings its whole content.
 */
export function packFiles(root: string, relativePaths: readonly string[]): Readable {
  const pack = new Pack({ cwd: root, portable: true, noDirRecurse: true });
  // An archive of nothing is no archive to tar's reader: then it holds the root directory alone.
  for (const relative of relativePaths.length > 0 ? relativePaths : ["."]) pack.add(relative);
  pack.end();
  return Readable.from(pack);
}

/**
 * Unpacks into `root`. What is already there is replaced, not written through (`unlink`: a
 * symlink planted in the workspace never sends a file elsewhere); paths leaving `root` are
 * refused by tar itself. A truncated or corrupt archive is an error (`strict`).
 */
export async function unpackInto(root: string, source: AsyncIterable<Uint8Array>): Promise<UnpackResult> {
  const result: UnpackResult = { files: 0, bytes: 0 };
  const unpack = new Unpack({
    cwd: root,
    strict: true,
    unlink: true,
    preserveOwner: false,
    onReadEntry: (entry) => {
      if (entry.type === "File" || entry.type === "OldFile" || entry.type === "SymbolicLink" || entry.type === "ContiguousFile") {
        result.files += 1;
        result.bytes += entry.size ?? 0;
      }
    },
  });
  let failure: unknown;
  unpack.on("error", (error: unknown) => (failure ??= error));
  const closed = once(unpack, "close");
  closed.catch(() => undefined); // rejects on "error", which is kept in `failure` instead
  for await (const chunk of source) {
    if (failure !== undefined) break;
    if (!unpack.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
      await Promise.race([once(unpack, "drain"), once(unpack, "error")]).catch(() => undefined);
    }
  }
  if (failure === undefined) unpack.end();
  if (failure === undefined) await closed.catch(() => undefined);
  if (failure !== undefined) throw failure;
  return result;
}
