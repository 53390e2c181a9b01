// Small JSON files that are replaced whole: written aside, flushed, then renamed over the old one,
// so a reader (or Gust after a crash) sees the old content or the new, never half of either.
import { randomBytes } from "node:crypto";
import { open, readFile, rename, rm } from "node:fs/promises";

export async function writeJsonAtomic(file: string, value: unknown, mode = 0o600): Promise<void> {
  const aside = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await open(aside, "w", mode);
  try {
    await handle.writeFile(JSON.stringify(value, null, 2) + "\n");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(aside, file);
  } catch (error) {
    await rm(aside, { force: true });
    throw error;
  }
}

/** The parsed file, or undefined when it does not exist. */
export async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  return JSON.parse(text) as unknown;
}
