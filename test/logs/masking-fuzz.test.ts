// Masking through JobLogWriter, fuzzed: random secrets printed plainly and base64-encoded inside
// random output, cut into lines at newlines and into pieces where an executor cuts long lines (or
// at random places flagged `continues`), streams interleaved, stored lines cut again by the writer.
// Oracle: per stream, the stored text joined equals SecretMasker.maskLine of what was printed
// (newlines removed; filler around each newline keeps secrets from spanning one), so no secret
// survives anywhere — also not across a piece boundary — and nothing else is lost.
import { describe, expect, it } from "vitest";
import { JobLogWriter, type WriterLine } from "../../src/logs/job-log-writer";
import type { LogStream } from "../../src/logs/log-store";
import { MemoryLogStore } from "../../src/logs/memory-log-store";
import { SecretMasker } from "../../src/logs/secret-masker";

function random(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) >>> 0;
  };
}

const SECRET_CHARS = [..."abcdefghijklmnopqrstuvwxyz0123456789!@#%$&éü日🚀"];
// Disjoint from secrets and from the base64 alphabet, so no secret can span a newline.
const FILLER = [..." .,:;-_=~|«»ßø→"];

interface Key {
  step: number | null;
  stream: LogStream;
}

function pick<T>(r: (n: number) => number, items: readonly T[]): T {
  return items[r(items.length)]!;
}

function makeSecret(r: (n: number) => number): string {
  return Array.from({ length: 4 + r(20) }, () => pick(r, SECRET_CHARS)).join("");
}

function printed(r: (n: number) => number, secrets: string[]): string {
  let out = "";
  const tokens = 5 + r(60);
  for (let i = 0; i < tokens; i++) {
    const secret = pick(r, secrets);
    switch (r(6)) {
      case 0:
        out += secret;
        break;
      case 1: {
        const around = () => Array.from({ length: r(4) }, () => pick(r, SECRET_CHARS)).join("");
        out += Buffer.from(around() + secret + around()).toString("base64");
        break;
      }
      case 2:
        out += `${pick(r, FILLER)}\n${pick(r, FILLER)}`;
        break;
      case 3: // a prefix of a secret only: must not be masked, nor swallow what follows
        out += [...secret].slice(0, 1 + r(secret.length - 1)).join("");
        out += pick(r, FILLER);
        break;
      default:
        out += Array.from({ length: r(12) }, () => pick(r, FILLER)).join("");
    }
  }
  return out;
}

/** Pieces the way the local executor cuts: `length` characters, one less before a surrogate pair. */
function executorPieces(line: string, length: number): string[] {
  const pieces: string[] = [];
  let rest = line;
  while (rest.length > length) {
    const code = rest.charCodeAt(length - 1);
    const cut = code >= 0xd800 && code <= 0xdbff ? length - 1 : length;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  pieces.push(rest);
  return pieces;
}

/** Random cuts (never inside a surrogate pair), for producers that flag pieces themselves. */
function randomPieces(r: (n: number) => number, line: string): string[] {
  const chars = [...line];
  const pieces: string[] = [];
  let current = "";
  for (const char of chars) {
    current += char;
    if (r(7) === 0) {
      pieces.push(current);
      current = "";
    }
  }
  pieces.push(current);
  return pieces;
}

describe("masking fuzz", () => {
  it("never stores a secret, whatever the cuts, and loses nothing else", async () => {
    for (let round = 0; round < 400; round++) {
      const r = random(round + 1);
      const secrets = Array.from({ length: 1 + r(4) }, () => makeSecret(r));
      const masker = new SecretMasker(secrets);
      const flagged = r(2) === 0;
      const pieceLength = 3 + r(40);
      const maxLineLength = 2 + r(30);
      const keys: Key[] = [
        { step: 0, stream: "stdout" },
        { step: 0, stream: "stderr" },
        { step: null, stream: "system" },
        { step: 1, stream: "stdout" },
      ];
      const outputs = keys.map(() => printed(r, secrets));
      const events = keys.map((key, k) =>
        outputs[k]!.split("\n").flatMap((text) => {
          const pieces = flagged ? randomPieces(r, text) : executorPieces(text, pieceLength);
          return pieces.map((piece, i): WriterLine => ({
            at: 1,
            attempt: 1,
            step: key.step,
            stream: key.stream,
            text: piece,
            ...(flagged ? { continues: i < pieces.length - 1 } : {}),
          }));
        }),
      );
      // Step 0's two streams and the executor's lines interleave; step 1 comes after step 0.
      const queues = [events[0]!, events[1]!, events[2]!.slice(0, events[2]!.length >> 1)];
      const order: WriterLine[] = [];
      while (queues.some((q) => q.length > 0)) {
        const q = queues[r(queues.length)]!;
        const next = q.shift();
        if (next) order.push(next);
      }
      const later = [events[3]!, events[2]!.slice(events[2]!.length >> 1)];
      while (later.some((q) => q.length > 0)) {
        const next = later[r(later.length)]!.shift();
        if (next) order.push(next);
      }

      const store = new MemoryLogStore();
      const writer = new JobLogWriter(1, store, { secrets: masker, pieceLength, maxLineLength, batchBytes: 64 });
      for (const line of order) writer.write(line);
      await writer.close();
      const stored = await store.read(1, { afterLine: 0, limit: 1_000_000 });

      const context = `round ${round}: secrets ${JSON.stringify(secrets)} pieceLength ${pieceLength} maxLineLength ${maxLineLength} flagged ${flagged}`;
      // Plain checks first: an expect() per line and value would make this test slow.
      const tooLong = stored.find((line) => line.text.length > maxLineLength);
      expect(tooLong, context).toBeUndefined();
      const leaked = stored.find((line) => masker.values.some((value) => line.text.includes(value)));
      expect(leaked, context).toBeUndefined();
      for (const [k, key] of keys.entries()) {
        const joined = stored
          .filter((line) => line.step === key.step && line.stream === key.stream)
          .map((line) => line.text)
          .join("");
        expect(masker.values.filter((value) => joined.includes(value)), context).toEqual([]);
        expect(joined, `${context} key ${k}`).toBe(masker.maskLine(outputs[k]!.replaceAll("\n", "")));
      }
    }
  });

  it("masks a secret cut by the executor at 64 KiB and again by the writer at 16 KiB", async () => {
    const secret = "sup3r-s3cret-t0ken-value";
    const base64 = Buffer.from(`user:${secret}`).toString("base64");
    const masker = new SecretMasker([secret]);
    for (const offset of [1, 5, secret.length - 1]) {
      // One printed line of ~200 KiB with the secret straddling the first executor cut and the
      // base64 form straddling the second; the writer cuts at 16 KiB besides.
      const head = "x".repeat(64 * 1024 - offset);
      const middle = "y".repeat(64 * 1024 - (secret.length - offset) - 7);
      const text = `${head}${secret}${middle}${base64}${"z".repeat(70 * 1024)}`;
      const store = new MemoryLogStore();
      const writer = new JobLogWriter(7, store, { secrets: masker });
      for (const piece of executorPieces(text, 64 * 1024)) writer.write({ at: 1, attempt: 1, step: 0, stream: "stdout", text: piece });
      await writer.close();
      const stored = await store.read(7, { afterLine: 0, limit: 1000 });
      expect(stored.every((line) => line.text.length <= 16 * 1024)).toBe(true);
      const joined = stored.map((line) => line.text).join("");
      expect(joined).not.toContain(secret);
      for (const value of masker.values) expect(joined).not.toContain(value);
      expect(joined).toBe(masker.maskLine(text));
      expect(joined).toContain(`${"x".repeat(10)}***${"y".repeat(10)}`);
    }
  });
});
