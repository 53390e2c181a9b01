import { describe, expect, it } from "vitest";
import { LineSplitter } from "../../src/executors/local/line-splitter";

function split(chunks: Buffer[], maxLength?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), maxLength);
  for (const chunk of chunks) splitter.write(chunk);
  splitter.end();
  return lines;
}

describe("LineSplitter", () => {
  const text = "héllo €uro 𝄞 clef\r\nsecond\n\nlast without newline";
  const expected = ["héllo €uro 𝄞 clef", "second", "", "last without newline"];

  it("splits on \\n and \\r\\n and keeps a last line without newline", () => {
    expect(split([Buffer.from(text)])).toEqual(expected);
  });

  it("gives the same lines whatever byte a chunk ends on (UTF-8 split across chunks)", () => {
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(split([bytes.subarray(0, cut), bytes.subarray(cut)]), `cut at ${cut}`).toEqual(expected);
    }
    expect(split([...bytes].map((byte) => Buffer.from([byte])))).toEqual(expected);
  });

  it("emits nothing for empty input and one empty line for a lone newline", () => {
    expect(split([])).toEqual([]);
    expect(split([Buffer.from("\n")])).toEqual([""]);
  });

  it("cuts long lines into pieces of at most maxLength as they arrive", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line), 10);
    splitter.write(Buffer.from("a".repeat(25)));
    expect(lines).toEqual(["a".repeat(10), "a".repeat(10)]); // bounded: the rest waits
    splitter.write(Buffer.from("b\nshort\n"));
    splitter.end();
    expect(lines).toEqual(["a".repeat(10), "a".repeat(10), "aaaaab", "short"]);
  });

  it("does not add an empty line after a line of exactly maxLength", () => {
    expect(split([Buffer.from("x".repeat(10)), Buffer.from("\nnext\n")], 10)).toEqual(["x".repeat(10), "next"]);
    expect(split([Buffer.from(`${"x".repeat(20)}\n`)], 10)).toEqual(["x".repeat(10), "x".repeat(10)]);
  });

  it("never cuts a surrogate pair in half", () => {
    const lines = split([Buffer.from(`${"x".repeat(9)}𝄞𝄞\n`)], 10);
    expect(lines.join("")).toBe(`${"x".repeat(9)}𝄞𝄞`);
    for (const line of lines) expect(line).not.toMatch(/[\ud800-\udbff]$/);
  });
});
