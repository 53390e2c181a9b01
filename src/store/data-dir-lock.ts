// One PGlite per data directory. PGlite does not stop a second instance (in this process or
// another) from opening the same files, and two would corrupt them; a lock file with the owner's
// pid does. A lock left by a process that is gone (kill -9, a crash) is taken over.
import { openSync, readFileSync, unlinkSync, writeSync, closeSync } from "node:fs";
import { join, resolve } from "node:path";
import { StoreError } from "../errors";

const LOCK_FILE = "gust-database.lock";
/** Directories this process has open: its own pid in a lock file is then not a stale lock. */
const heldHere = new Set<string>();

/** Takes the lock; the returned function releases it. */
export function lockDataDir(dataDir: string): () => void {
  const directory = resolve(dataDir);
  const path = join(directory, LOCK_FILE);
  if (heldHere.has(directory)) throw inUse(directory, process.pid);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error;
      const owner = Number.parseInt(readFileSync(path, "utf8"), 10);
      // Our own pid here is a previous life of this process id (a restarted container): stale.
      if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) throw inUse(directory, owner);
      unlinkSync(path);
    }
  }
  heldHere.add(directory);
  return () => {
    heldHere.delete(directory);
    try {
      unlinkSync(path);
    } catch {
      // Already gone: nothing to release.
    }
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function inUse(directory: string, pid: number): StoreError {
  return new StoreError(`the data directory ${directory} is in use by another Gust process (pid ${pid}); stop it first, or use another --data-dir`, {
    retryable: false,
    code: "data_dir_in_use",
  });
}
