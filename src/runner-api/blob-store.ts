// Artifacts and cache entries of Kubernetes jobs, as tar files in the data directory:
//   <dataDir>/runner/artifacts/<pipelineRun>/<jobKey>.tar
//   <dataDir>/runner/cache/<scope>/<sha256(key)>.json   the index entry: key, file, created time
//   <dataDir>/runner/cache/<scope>/<sha256(key)>-<random>.tar
// Every file is written aside and moved into place, so a reader never sees half of one. A cache
// entry is immutable and its index file is the one commit point (created with link(), which fails
// when it exists: of two jobs saving one key the first wins); the tar it names is unique per write,
// so no writer ever replaces a file someone is reading.
import { createHash } from "node:crypto";
import { link, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { openBlob, pathSegment, writeTemporary, type BlobRead } from "./blob-files";

export { BlobTooLargeError, type BlobRead } from "./blob-files";

/**
 * The runner API's storage. Contract: puts stream (never hold a whole body in memory) and throw
 * BlobTooLargeError past `maxBytes`, keeping nothing; a put is visible whole or not at all;
 * artifacts of a later attempt replace an earlier one's; cache entries are never replaced.
 */
export interface RunnerBlobStore {
  putArtifact(pipelineRun: string, jobKey: string, body: Readable, maxBytes: number): Promise<{ bytes: number }>;
  /** Undefined when that job published none. */
  openArtifact(pipelineRun: string, jobKey: string): Promise<BlobRead | undefined>;
  hasCache(scope: string, key: string): Promise<boolean>;
  /** `exists` when the key was saved first by someone else (the body is dropped). */
  putCache(scope: string, key: string, body: Readable, maxBytes: number): Promise<"saved" | "exists">;
  /**
   * The entry for `key` itself, else the newest whose key starts with the first restore prefix
   * that matches any (the local executor's rule); undefined on a miss.
   */
  openCache(scope: string, key: string, restorePrefixes: readonly string[]): Promise<{ key: string; blob: BlobRead } | undefined>;
}

interface CacheIndexEntry {
  key: string;
  /** The tar's file name in the scope directory. */
  file: string;
  createdAt: number;
  bytes: number;
}

export class FileBlobStore implements RunnerBlobStore {
  private readonly artifactsDir: string;
  private readonly cacheDir: string;

  constructor(dataDir: string) {
    this.artifactsDir = path.join(dataDir, "runner", "artifacts");
    this.cacheDir = path.join(dataDir, "runner", "cache");
  }

  async putArtifact(pipelineRun: string, jobKey: string, body: Readable, maxBytes: number): Promise<{ bytes: number }> {
    const target = this.artifactFile(pipelineRun, jobKey);
    const { file, bytes } = await writeTemporary(path.dirname(target), body, maxBytes);
    try {
      await rename(file, target);
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
    return { bytes };
  }

  openArtifact(pipelineRun: string, jobKey: string): Promise<BlobRead | undefined> {
    return openBlob(this.artifactFile(pipelineRun, jobKey));
  }

  async hasCache(scope: string, key: string): Promise<boolean> {
    return (await this.readIndex(this.scopeDir(scope), `${keyHash(key)}.json`)) !== undefined;
  }

  async putCache(scope: string, key: string, body: Readable, maxBytes: number): Promise<"saved" | "exists"> {
    const dir = this.scopeDir(scope);
    const hash = keyHash(key);
    const { file: temporary, bytes } = await writeTemporary(dir, body, maxBytes);
    const file = `${hash}-${path.basename(temporary).slice(".tmp-".length)}.tar`;
    let indexTemporary: string | undefined;
    try {
      await rename(temporary, path.join(dir, file));
      const entry: CacheIndexEntry = { key, file, createdAt: Date.now(), bytes };
      indexTemporary = `${path.join(dir, file)}.json.tmp`;
      await writeFile(indexTemporary, JSON.stringify(entry));
      await link(indexTemporary, path.join(dir, `${hash}.json`));
      return "saved";
    } catch (error) {
      await rm(path.join(dir, file), { force: true });
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return "exists";
      throw error;
    } finally {
      await rm(temporary, { force: true });
      if (indexTemporary !== undefined) await rm(indexTemporary, { force: true });
    }
  }

  async openCache(scope: string, key: string, restorePrefixes: readonly string[]): Promise<{ key: string; blob: BlobRead } | undefined> {
    const dir = this.scopeDir(scope);
    const exact = await this.readIndex(dir, `${keyHash(key)}.json`);
    const found = exact?.key === key ? exact : restorePrefixes.length > 0 ? await this.newestByPrefix(dir, restorePrefixes) : undefined;
    if (!found) return undefined;
    const blob = await openBlob(path.join(dir, found.file));
    return blob ? { key: found.key, blob } : undefined;
  }

  private artifactFile(pipelineRun: string, jobKey: string): string {
    return path.join(this.artifactsDir, pathSegment(pipelineRun, "pipeline run"), `${pathSegment(jobKey, "job key")}.tar`);
  }

  private scopeDir(scope: string): string {
    return path.join(this.cacheDir, pathSegment(scope, "cache scope"));
  }

  private async newestByPrefix(dir: string, prefixes: readonly string[]): Promise<CacheIndexEntry | undefined> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    const entries = await Promise.all(names.filter((name) => /^[0-9a-f]{64}\.json$/.test(name)).map((name) => this.readIndex(dir, name)));
    for (const prefix of prefixes) {
      let best: CacheIndexEntry | undefined;
      for (const entry of entries) {
        if (entry && entry.key.startsWith(prefix) && (!best || entry.createdAt > best.createdAt)) best = entry;
      }
      if (best) return best;
    }
    return undefined;
  }

  private async readIndex(dir: string, name: string): Promise<CacheIndexEntry | undefined> {
    let text: string;
    try {
      text = await readFile(path.join(dir, name), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    const entry = JSON.parse(text) as CacheIndexEntry;
    // The file name comes from our own index, but it still must stay a plain name in this directory.
    return typeof entry.key === "string" && typeof entry.file === "string" && path.basename(entry.file) === entry.file ? entry : undefined;
  }
}

function keyHash(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}
