import { describe, expect, it } from "vitest";
import { ChunkFormatError, decodeChunk, encodeChunkText, writeChunk } from "../../src/logs/chunk-body";
import { DEFLATE_PREFIX, PLAIN_MAX_CHARS, packChunk, unpackBody } from "../../src/logs/chunk-packing";
import type { LogLine, LogStream } from "../../src/logs/log-store";

function random(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
}

const PIECES = ["a", "ü", "日本", "🚀", "\n", "\r\n", "\u0000", "\u2028", "}", "{\"v\":2}", " ", "\\", "\uFFFD"];
const STREAMS: LogStream[] = ["stdout", "stderr", "system"];

function randomLines(r: (n: number) => number, count: number): LogLine[] {
  let at = 1_700_000_000_000;
  return Array.from({ length: count }, () => {
    if (r(3) === 0) at += r(5);
    const text = Array.from({ length: r(4) === 0 ? 0 : r(30) }, () => PIECES[r(PIECES.length)]).join("");
    return { at, attempt: 1 + r(2), step: r(4) === 0 ? null : r(3), stream: STREAMS[r(3)]!, text };
  });
}

const numbered = (lines: LogLine[], firstLine: number) => lines.map((l, i) => ({ ...l, number: firstLine + i }));
const utf8Size = (lines: LogLine[]) => lines.reduce((sum, l) => sum + Buffer.byteLength(l.text) + 1, 0);

describe("chunk body", () => {
  it("gives back every line, from any line and for any limit, whatever the texts hold", () => {
    for (let round = 0; round < 200; round++) {
      const r = random(round + 1);
      const lines = randomLines(r, 1 + r(40));
      const { body } = encodeChunkText(lines);
      const firstLine = 1 + r(1000);
      expect(decodeChunk(body, firstLine, lines.length, firstLine, 1000), `round ${round}`).toEqual(numbered(lines, firstLine));
      const from = firstLine + r(lines.length + 2);
      const limit = r(10);
      expect(decodeChunk(body, firstLine, lines.length, from, limit)).toEqual(numbered(lines, firstLine).filter((l) => l.number >= from).slice(0, limit));
    }
  });

  it("writes the same body as UTF-8, growing a small buffer, and counts the texts' bytes", () => {
    const r = random(7);
    const lines = randomLines(r, 500);
    const { body } = encodeChunkText(lines);
    const written = writeChunk(lines, Buffer.alloc(16));
    expect(written.buffer.subarray(0, written.length).toString("utf8")).toBe(body);
    expect(written.textBytes).toBe(utf8Size(lines));
  });

  it("keeps runs of lines sharing time, attempt, step and stream together in the header", () => {
    const base = { at: 5, attempt: 1, step: 0, stream: "stdout" as const };
    const lines = [{ ...base, text: "a" }, { ...base, text: "bc" }, { ...base, step: null, stream: "system" as const, text: "" }, { ...base, at: 6, text: "d\ne" }];
    expect(encodeChunkText(lines).body).toBe('a\nbc\n\nd\ne\n{"v":2,"n":[1,2,0,3],"r":[2,5,1,0,0,1,5,1,null,2,1,6,1,0,0]}');
  });

  it("refuses a body whose header does not match its texts or line count", () => {
    const { body } = encodeChunkText([{ at: 1, attempt: 1, step: 0, stream: "stdout", text: "abc" }]);
    const bad = [body.replace('"n":[3]', '"n":[2]'), body.replace('"r":[1,', '"r":[2,'), body.replace('"v":2', '"v":3'), "abc\n", body.replace('"r":[1,1,1,0,0]', '"r":[1,1,1,0,7]')];
    for (const text of bad) expect(() => decodeChunk(text, 1, 1, 1, 10), text).toThrow(ChunkFormatError);
    expect(() => decodeChunk(body, 1, 2, 1, 10)).toThrow(/1 lengths for 2 lines/);
  });
});

describe("chunk packing", () => {
  const line = (text: string): LogLine => ({ at: 1, attempt: 1, step: 0, stream: "stdout", text });

  it("stores small bodies as they are, large ones and ones with NUL deflated, and reads both back", async () => {
    const small = [line("hello"), line("wörld")];
    const large = Array.from({ length: 2000 }, (_, i) => line(`compiling module ${i} of 2000`));
    const nul = [line("a\u0000b")];
    for (const lines of [small, large, nul]) {
      const packed = await packChunk(lines);
      const text = typeof packed.body === "string" ? packed.body : packed.body.toString("latin1");
      expect(text.startsWith(DEFLATE_PREFIX)).toBe(lines !== small);
      expect(packed.textBytes).toBe(utf8Size(lines));
      expect(decodeChunk(await unpackBody(text), 1, lines.length, 1, 10_000)).toEqual(numbered(lines, 1));
    }
    const largeText = (await packChunk(large)).body;
    expect(largeText.length).toBeLessThan(utf8Size(large) / 3);
    expect(utf8Size(large)).toBeGreaterThan(PLAIN_MAX_CHARS);
  });

  it("refuses a column text that is neither form", async () => {
    await expect(unpackBody("not a body")).rejects.toThrow(ChunkFormatError);
    await expect(unpackBody(`${DEFLATE_PREFIX}!!!!`)).rejects.toThrow();
  });
});
