// Sealing: AES-256-GCM round trips, tampering and a wrong key are refused with clear errors, and
// the key file is created once, private, and agreed on by concurrent starts.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors";
import { Sealer, loadOrCreateKeyFile, parseMasterKey } from "../../src/store/sealing";

const key = Buffer.alloc(32, 1);
const dir = mkdtempSync(join(tmpdir(), "gust-sealing-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("Sealer", () => {
  const sealer = new Sealer(key);

  it("round-trips text, with a fresh nonce every time", () => {
    const plaintext = "s3cret ✓ with unicode and\nnewlines";
    const first = sealer.seal(plaintext);
    const second = sealer.seal(plaintext);
    expect(first).not.toBe(second);
    expect(first).toMatch(/^v1\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(first).not.toContain("s3cret");
    expect(sealer.open(first)).toBe(plaintext);
    expect(sealer.open(sealer.seal(""))).toBe("");
  });

  it("binds a value to its context", () => {
    const sealed = sealer.seal("token", "secret:1:NPM_TOKEN");
    expect(sealer.open(sealed, "secret:1:NPM_TOKEN")).toBe("token");
    expect(() => sealer.open(sealed, "secret:2:NPM_TOKEN")).toThrow(/fails authentication/);
  });

  it("refuses an altered value", () => {
    const parts = sealer.seal("hello").split(".");
    const ciphertext = Buffer.from(parts[3]!, "base64url");
    ciphertext[0] = ciphertext[0]! ^ 1;
    parts[3] = ciphertext.toString("base64url");
    expect(() => sealer.open(parts.join("."))).toThrow(/fails authentication/);
    expect(() => sealer.open("v2.abc")).toThrow(/does not start with 'v1\.'/);
    expect(() => sealer.open("plain text")).toThrow(StoreError);
  });

  it("names a wrong master key as such", () => {
    const sealed = new Sealer(Buffer.alloc(32, 2)).seal("hello");
    let error: unknown;
    try {
      sealer.open(sealed);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: "wrong_master_key", retryable: false });
    expect((error as Error).message).toMatch(/sealed with another master key/);
  });

  it("wants a 32-byte key", () => {
    expect(() => new Sealer(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});

describe("parseMasterKey", () => {
  it("reads base64, base64url and hex", () => {
    expect(parseMasterKey(key.toString("base64"))).toEqual(key);
    expect(parseMasterKey(` ${key.toString("base64url")}\n`)).toEqual(key);
    expect(parseMasterKey(key.toString("hex"))).toEqual(key);
  });

  it("says what it expected", () => {
    expect(() => parseMasterKey("too-short")).toThrow(/GUST_MASTER_KEY: expected 32 bytes in base64/);
    expect(() => parseMasterKey(Buffer.alloc(31).toString("base64"))).toThrow(/expected 32 bytes/);
  });
});

describe("loadOrCreateKeyFile", () => {
  it("creates a private key file once, then reads the same key", async () => {
    const path = join(dir, "nested", "master.key");
    const created = await loadOrCreateKeyFile(path);
    expect(created.created).toBe(true);
    expect(created.key).toHaveLength(32);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "nested")).mode & 0o777).toBe(0o700);
    expect(readFileSync(path, "utf8")).toBe(`${created.key.toString("base64")}\n`);

    const again = await loadOrCreateKeyFile(path);
    expect(again).toEqual({ key: created.key, created: false });
  });

  it("gives concurrent first starts one key", async () => {
    const path = join(dir, "race.key");
    const results = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKeyFile(path)));
    expect(results.filter((result) => result.created)).toHaveLength(1);
    for (const result of results) expect(result.key).toEqual(results[0]!.key);
  });

  it("refuses a key file that does not hold a key", async () => {
    const path = join(dir, "bad.key");
    writeFileSync(path, "not a key\n");
    await expect(loadOrCreateKeyFile(path)).rejects.toThrow(/key file .*bad\.key: expected 32 bytes/);
  });
});
