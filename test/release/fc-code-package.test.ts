// The FC code zip: read back with an independent reader written here from the zip format (central
// directory → local headers → inflate), identical bytes for identical files, a .zip taken as it is.
import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { crc32, inflateRawSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { codePackage } from "../../src/release/fc/code-package";
import { writeZip } from "../../src/release/fc/zip-writer";

interface ReadEntry {
  name: string;
  data: Buffer;
  /** st_mode from the high half of the external attributes. */
  mode: number;
}

function readZip(zip: Buffer): ReadEntry[] {
  const end = zip.length - 22;
  expect(zip.readUInt32LE(end)).toBe(0x06054b50);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: ReadEntry[] = [];
  for (let i = 0; i < count; i += 1) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30);
    const comment = zip.readUInt16LE(at + 32);
    const mode = zip.readUInt32LE(at + 38) >>> 16;
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString("utf8");
    expect(zip.readUInt32LE(local)).toBe(0x04034b50);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const body = zip.subarray(start, start + compressed);
    const data = method === 8 ? inflateRawSync(body) : Buffer.from(body);
    expect(data.length).toBe(size);
    expect(crc32(data)).toBe(crc);
    entries.push({ name, data, mode });
    at += 46 + nameLength + extra + comment;
  }
  return entries;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "gust-fc-zip-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("FC code package", () => {
  it("zips a directory with its tree, permissions and symbolic links", async () => {
    const root = path.join(dir, "app");
    await mkdir(path.join(root, "node_modules", ".bin"), { recursive: true });
    await writeFile(path.join(root, "bootstrap"), "#!/bin/sh\nexec node index.js\n");
    await chmod(path.join(root, "bootstrap"), 0o755);
    await writeFile(path.join(root, "index.js"), "x".repeat(10_000));
    await writeFile(path.join(root, "node_modules", "tool.js"), "console.log(1)\n");
    await symlink("../tool.js", path.join(root, "node_modules", ".bin", "tool"));

    const entries = readZip(await codePackage(root));
    expect(entries.map((entry) => entry.name)).toEqual(["bootstrap", "index.js", "node_modules/.bin/tool", "node_modules/tool.js"]);
    const byName = new Map(entries.map((entry) => [entry.name, entry]));
    expect(byName.get("bootstrap")!.mode).toBe(0o100755);
    expect(byName.get("index.js")!.data.toString()).toBe("x".repeat(10_000));
    expect(byName.get("node_modules/.bin/tool")).toMatchObject({ mode: 0o120777, data: Buffer.from("../tool.js") });
  });

  it("gives the same bytes for the same files, whatever their timestamps", async () => {
    const root = path.join(dir, "app");
    await mkdir(root);
    await writeFile(path.join(root, "a.js"), "a");
    const first = await codePackage(root);
    await utimes(path.join(root, "a.js"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect((await codePackage(root)).equals(first)).toBe(true);
    await writeFile(path.join(root, "a.js"), "b");
    expect((await codePackage(root)).equals(first)).toBe(false);
  });

  it("takes a .zip as it is and zips any other single file under its name", async () => {
    const zip = writeZip([{ name: "index.js", data: Buffer.from("exports.handler = 1"), mode: 0o644 }]);
    await writeFile(path.join(dir, "function.zip"), zip);
    expect((await codePackage(path.join(dir, "function.zip"))).equals(zip)).toBe(true);
    await writeFile(path.join(dir, "main"), "binary");
    expect(readZip(await codePackage(path.join(dir, "main"))).map((entry) => [entry.name, entry.data.toString()])).toEqual([["main", "binary"]]);
  });

  it("names a missing artifact as the release's fault", async () => {
    await expect(codePackage(path.join(dir, "nope"))).rejects.toMatchObject({ retryable: false, fault: "user", code: "artifact_missing" });
  });
});
