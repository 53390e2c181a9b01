// Secrets and forge credentials are sealed with AES-256-GCM under the master key before they reach
// the database. A sealed value is text:
//
//   v1.<key id>.<nonce>.<ciphertext>.<tag>      (base64url parts; the key id is 4 bytes of SHA-256(key))
//
// A fresh random 96-bit nonce per seal; the GCM tag authenticates the ciphertext and, when given,
// a context string (e.g. `secret:12:NPM_TOKEN`) so a sealed value copied into another row does not
// open there. The key id lets a wrong master key be reported as such instead of as corruption.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { mkdir, open, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { InputError, StoreError } from "../errors";

const VERSION = "v1";
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class Sealer {
  /** Identifies the key in sealed values (not secret: 4 bytes of its SHA-256). */
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new InputError(`the master key must be ${KEY_BYTES} bytes, got ${key.length}`, "invalid_master_key");
    this.keyId = keyIdOf(key);
  }

  seal(plaintext: string, context = ""): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, nonce);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.keyId, b64(nonce), b64(ciphertext), b64(tag)].join(".");
  }

  open(sealed: string, context = ""): string {
    const parts = sealed.split(".");
    if (parts.length !== 5 || parts[0] !== VERSION) throw corrupt(`it does not start with '${VERSION}.' or has ${parts.length} parts instead of 5`);
    const [, keyId, nonceText, ciphertextText, tagText] = parts as [string, string, string, string, string];
    if (keyId !== this.keyId) {
      throw new StoreError(
        `a sealed value was sealed with another master key (key id ${keyId}, this server's is ${this.keyId}); start Gust with the master key it was created with (GUST_MASTER_KEY or the key file)`,
        { retryable: false, code: "wrong_master_key" },
      );
    }
    const nonce = Buffer.from(nonceText, "base64url");
    const tag = Buffer.from(tagText, "base64url");
    if (nonce.length !== NONCE_BYTES || tag.length !== TAG_BYTES) throw corrupt("its nonce or tag has the wrong length");
    const decipher = createDecipheriv("aes-256-gcm", this.key, nonce);
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(Buffer.from(ciphertextText, "base64url")), decipher.final()]).toString("utf8");
    } catch (error) {
      throw corrupt("it fails authentication (altered, or sealed for another record)", error);
    }
  }
}

/** The key as GUST_MASTER_KEY gives it: base64 (or base64url, or 64 hex digits) of 32 bytes. */
export function parseMasterKey(text: string, source = "GUST_MASTER_KEY"): Buffer {
  const trimmed = text.trim();
  const bytes = /^[0-9a-f]{64}$/i.test(trimmed)
    ? Buffer.from(trimmed, "hex")
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)
      ? Buffer.from(trimmed, "base64")
      : undefined;
  if (bytes?.length !== KEY_BYTES) {
    throw new InputError(`${source}: expected ${KEY_BYTES} bytes in base64 (e.g. \`openssl rand -base64 32\`)`, "invalid_master_key");
  }
  return bytes;
}

/**
 * Reads the key file, or creates it with a new random key (mode 0600, in a 0700 directory) when it
 * does not exist. `created` tells the caller to warn that the key must be kept: without it, sealed
 * secrets cannot be opened. Two processes starting at once agree on one key (exclusive create).
 */
export async function loadOrCreateKeyFile(path: string): Promise<{ key: Buffer; created: boolean }> {
  const existing = await readKeyFile(path);
  if (existing) return { key: existing, created: false };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  let file;
  try {
    file = await open(path, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    // Someone else created it between our read and our create: use theirs, once it is written.
    for (let wait = 0; wait < 20; wait++) {
      const theirs = await readKeyFile(path);
      if (theirs) return { key: theirs, created: false };
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new InputError(`key file ${path} is empty`, "invalid_master_key");
  }
  try {
    await file.writeFile(`${key.toString("base64")}\n`, "utf8");
    await file.sync();
  } finally {
    await file.close();
  }
  return { key, created: true };
}

async function readKeyFile(path: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  if (text.trim() === "") return undefined;
  return parseMasterKey(text, `key file ${path}`);
}

function keyIdOf(key: Buffer): string {
  return b64(createHash("sha256").update(key).digest().subarray(0, 4));
}

function b64(bytes: Buffer): string {
  return bytes.toString("base64url");
}

function corrupt(why: string, cause?: unknown): StoreError {
  return new StoreError(`a sealed value cannot be opened: ${why}`, { retryable: false, code: "sealed_value_invalid", cause });
}
