// The file blob store on its own: of two saves of one cache key exactly one wins and the winner's
// bytes are what is read back; a body past the limit leaves nothing behind; odd names stay inside.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { walkFiles } from "../../src/executors/local/walk-files";
import { BlobTooLargeError, FileBlobStore, type BlobRead } from "../../src/runner-api";

let dataDir: string;
let store: FileBlobStore;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "gust-blob-store-"));
  store = new FileBlobStore(dataDir);
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** A body arriving in several chunks, as from a socket. */
const body = (text: string): Readable => Readable.from(text.match(/.{1,3}/gs) ?? [], { objectMode: false });

async function text(blob: BlobRead | undefined): Promise<string> {
  if (!blob) return "<none>";
  let result = "";
  for await (const chunk of blob.stream) result += (chunk as Buffer).toString("utf8");
  return result;
}

describe("FileBlobStore", () => {
  it("lets exactly one of two concurrent saves of a key win", async () => {
    const results = await Promise.all([store.putCache("s", "k1", body("first body"), 1000), store.putCache("s", "k1", body("second body"), 1000)]);
    expect([...results].sort()).toEqual(["exists", "saved"]);
    const winner = results[0] === "saved" ? "first body" : "second body";
    const found = await store.openCache("s", "k1", []);
    expect(found?.key).toBe("k1");
    expect(found?.blob.bytes).toBe(winner.length);
    expect(await text(found?.blob)).toBe(winner);
    expect(await store.hasCache("s", "k1")).toBe(true);
    // The loser's tar and every temp file are gone.
    expect((await readdir(path.join(dataDir, "runner", "cache", "s"))).sort()).toHaveLength(2);
  });

  it("keeps nothing of a body past the limit", async () => {
    await expect(store.putArtifact("pr", "big", body("x".repeat(50)), 10)).rejects.toBeInstanceOf(BlobTooLargeError);
    await expect(store.putCache("s", "big", body("x".repeat(50)), 10)).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(await store.openArtifact("pr", "big")).toBeUndefined();
    expect(await store.hasCache("s", "big")).toBe(false);
    const leftovers = (await walkFiles(path.join(dataDir, "runner"))).filter((file) => file.includes(".tmp-"));
    expect(leftovers).toEqual([]);
  });

  it("keeps names from jobs and tokens inside their directories", async () => {
    await store.putArtifact("../../escape", "../job", body("contained"), 100);
    expect(await text(await store.openArtifact("../../escape", "../job"))).toBe("contained");
    expect(await text(await store.openArtifact("..%2F..%2Fescape", "..%2Fjob"))).toBe("<none>");
    const files = await walkFiles(dataDir);
    expect(files.every((file) => file.startsWith("runner/"))).toBe(true);
    expect(files).toContain("runner/artifacts/%2e.%2f..%2fescape/%2e.%2fjob.tar");
  });
});
