// Dependency cache on the local disk. Entries are immutable: `cacheDir/<sha256(key)>/` holds the
// cached files and gust-cache.json (key, createdAt). A key is restored exactly, or else the newest
// entry whose key starts with a restore key; a missing exact key is saved after a successful job.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { CacheKeyPart, CacheRun } from "../executor";
import { copyFiles } from "./copy-files";
import { findFiles } from "./file-globs";
import { walkFiles } from "./walk-files";

export const CACHE_MANIFEST = "gust-cache.json";

export interface CacheManifest {
  key: string;
  createdAt: string;
  files: number;
  bytes: number;
}

type Log = (text: string) => void;

/** The key text: literal parts as they are, hashFiles() parts resolved in the workspace. */
export async function resolveCacheKey(parts: readonly CacheKeyPart[], workspace: string): Promise<string> {
  const resolved: string[] = [];
  for (const part of parts) resolved.push(typeof part === "string" ? part : await hashFiles(workspace, part.hashFiles));
  return resolved.join("");
}

/** sha256 over the matching files' paths and contents, sorted; "" when nothing matches (as GitHub does). */
export async function hashFiles(workspace: string, patterns: readonly string[]): Promise<string> {
  const files = await findFiles(workspace, patterns);
  if (files.length === 0) return "";
  const outer = createHash("sha256");
  for (const file of files) {
    const absolute = path.join(workspace, file);
    const inner = createHash("sha256");
    if ((await lstat(absolute)).isSymbolicLink()) {
      inner.update(`symlink:${await readlink(absolute)}`); // never follow it out of the workspace
    } else {
      for await (const chunk of createReadStream(absolute)) inner.update(chunk as Buffer);
    }
    outer.update(`${file}\0${inner.digest("hex")}\n`);
  }
  return outer.digest("hex");
}

export function cacheEntryDirectory(cacheDir: string, key: string): string {
  return path.join(cacheDir, createHash("sha256").update(key).digest("hex"));
}

/** Restores into the workspace; `exact` tells whether the key itself was found (then no save). */
export async function restoreCache(
  cache: CacheRun,
  key: string,
  workspace: string,
  cacheDir: string,
  log: Log,
  signal?: AbortSignal,
): Promise<{ exact: boolean }> {
  const exactDir = cacheEntryDirectory(cacheDir, key);
  let found: { dir: string; manifest: CacheManifest } | undefined;
  const exactManifest = await readManifest(exactDir);
  if (exactManifest?.key === key) found = { dir: exactDir, manifest: exactManifest };
  else if (cache.restoreKeys.length > 0) found = await newestByPrefix(cacheDir, cache.restoreKeys);
  if (!found) {
    log(`cache: miss for ${key}`);
    return { exact: false };
  }
  const files = (await walkFiles(found.dir, signal ? { signal } : {})).filter((file) => file !== CACHE_MANIFEST);
  const copied = await copyFiles(found.dir, workspace, files, { replace: true, ...(signal ? { signal } : {}) });
  const exact = found.manifest.key === key;
  log(`cache: restored ${found.manifest.key} (${copied.files} files)${exact ? "" : ` for ${key}`}`);
  return { exact };
}

export async function saveCache(cache: CacheRun, key: string, workspace: string, cacheDir: string, log: Log): Promise<void> {
  const target = cacheEntryDirectory(cacheDir, key);
  if (await exists(target)) {
    log(`cache: ${key} already saved`);
    return;
  }
  const files = (await findFiles(workspace, cache.paths)).filter((file) => file !== CACHE_MANIFEST);
  if (files.length === 0) {
    log(`cache: warning: no files match ${cache.paths.join(", ")}; nothing saved`);
    return;
  }
  // Written aside and renamed into place: readers never see a partial entry, and of two jobs saving
  // the same key at once exactly one rename wins.
  const temporary = path.join(cacheDir, `.tmp-${randomBytes(8).toString("hex")}`);
  try {
    await mkdir(temporary, { recursive: true });
    const copied = await copyFiles(workspace, temporary, files);
    const manifest: CacheManifest = {
      key,
      createdAt: new Date().toISOString(),
      files: copied.files,
      bytes: copied.bytes,
    };
    await writeFile(path.join(temporary, CACHE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    try {
      await rename(temporary, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
      log(`cache: ${key} was saved meanwhile by another job`);
      return;
    }
    log(`cache: saved ${key} (${copied.files} files)`);
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
}

async function newestByPrefix(
  cacheDir: string,
  restoreKeys: readonly string[],
): Promise<{ dir: string; manifest: CacheManifest } | undefined> {
  let names: string[];
  try {
    names = await readdir(cacheDir);
  } catch {
    return undefined;
  }
  const entries = await Promise.all(
    names
      .filter((name) => !name.startsWith("."))
      .map(async (name) => {
        const dir = path.join(cacheDir, name);
        const manifest = await readManifest(dir);
        return manifest ? { dir, manifest, created: Date.parse(manifest.createdAt) || 0 } : undefined;
      }),
  );
  for (const prefix of restoreKeys) {
    let best: { dir: string; manifest: CacheManifest; created: number } | undefined;
    for (const entry of entries) {
      if (!entry || !entry.manifest.key.startsWith(prefix)) continue;
      if (!best || entry.created > best.created) best = entry;
    }
    if (best) return { dir: best.dir, manifest: best.manifest };
  }
  return undefined;
}

async function readManifest(dir: string): Promise<CacheManifest | undefined> {
  try {
    const manifest = JSON.parse(await readFile(path.join(dir, CACHE_MANIFEST), "utf8")) as CacheManifest;
    return typeof manifest.key === "string" ? manifest : undefined;
  } catch {
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
