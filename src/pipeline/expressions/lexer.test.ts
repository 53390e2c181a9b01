import { describe, expect, it } from "vitest";
import type { Token } from "./lexer";
import { tokenize } from "./lexer";

function lex(source: string): Token[] {
  const result = tokenize(source);
  if (!result.ok) throw new Error(`lex failed: ${result.error.message}`);
  return result.tokens;
}

function kinds(source: string): string[] {
  return lex(source).map((t) => (t.kind === "eof" ? "eof" : `${t.kind}:${String(t.value)}`));
}

function lexError(source: string) {
  const result = tokenize(source);
  if (result.ok) throw new Error(`expected a lex error for ${source}`);
  return result.error;
}

describe("tokenize", () => {
  it("lexes punctuation, longest match first", () => {
    expect(kinds("( ) [ ] . , ! - == != < <= > >= && ||")).toEqual([
      "punct:(",
      "punct:)",
      "punct:[",
      "punct:]",
      "punct:.",
      "punct:,",
      "punct:!",
      "punct:-",
      "punct:==",
      "punct:!=",
      "punct:<",
      "punct:<=",
      "punct:>",
      "punct:>=",
      "punct:&&",
      "punct:||",
      "eof",
    ]);
    expect(kinds("a!=b")).toEqual(["name:a", "punct:!=", "name:b", "eof"]);
    expect(kinds("!!a")).toEqual(["punct:!", "punct:!", "name:a", "eof"]);
  });

  it("records start and end offsets", () => {
    const tokens = lex("  ab == 'x'");
    expect(tokens.map((t) => [t.start, t.end])).toEqual([
      [2, 4],
      [5, 7],
      [8, 11],
      [11, 11],
    ]);
  });

  it("lexes names with '-' and '_' after the first character", () => {
    expect(kinds("needs.unit-tests.result")).toEqual(["name:needs", "punct:.", "name:unit-tests", "punct:.", "name:result", "eof"]);
    expect(kinds("_a_b-c2")).toEqual(["name:_a_b-c2", "eof"]);
    expect(kinds("build-2")).toEqual(["name:build-2", "eof"]);
  });

  it("does not take a trailing or spaced '-' into a name", () => {
    expect(kinds("a- b")).toEqual(["name:a", "punct:-", "name:b", "eof"]);
    expect(kinds("a -b")).toEqual(["name:a", "punct:-", "name:b", "eof"]);
    expect(kinds("a-")).toEqual(["name:a", "punct:-", "eof"]);
  });

  it("lexes keywords as names (the parser turns them into literals)", () => {
    expect(kinds("true false null")).toEqual(["name:true", "name:false", "name:null", "eof"]);
  });

  it("lexes numbers: integers, decimals, exponents, hexadecimal", () => {
    const values = (src: string) => lex(src).flatMap((t) => (t.kind === "number" ? [t.value] : []));
    expect(values("0 42 3.14 1e3 2.5E-2 0xff 0X1A")).toEqual([0, 42, 3.14, 1000, 0.025, 255, 26]);
    expect(kinds("-1")).toEqual(["punct:-", "number:1", "eof"]);
    expect(kinds("1.")).toEqual(["number:1", "punct:.", "eof"]);
  });

  it("rejects a number running into a name", () => {
    expect(lexError("x == 12abc")).toMatchObject({ message: "invalid number '12abc'", offset: 5, length: 5 });
  });

  it("lexes single-quoted strings with '' escaping a quote", () => {
    expect(lex("'it''s'")[0]).toMatchObject({ kind: "string", value: "it's", start: 0, end: 7 });
    expect(lex("''")[0]).toMatchObject({ kind: "string", value: "" });
    expect(lex("''''")[0]).toMatchObject({ kind: "string", value: "'" });
    expect(lex("'a\\nb'")[0]).toMatchObject({ value: "a\\nb" }); // no backslash escapes in single quotes
    expect(lex("'say \"hi\"'")[0]).toMatchObject({ value: 'say "hi"' });
  });

  it("lexes double-quoted strings with backslash escapes", () => {
    expect(lex('"a\\"b"')[0]).toMatchObject({ kind: "string", value: 'a"b' });
    expect(lex('"a\\\\b"')[0]).toMatchObject({ value: "a\\b" });
    expect(lex('"l1\\nl2\\tx"')[0]).toMatchObject({ value: "l1\nl2\tx" });
    expect(lex('"it\'s"')[0]).toMatchObject({ value: "it's" });
  });

  it("reports an unterminated string at its opening quote", () => {
    expect(lexError("x == 'abc")).toMatchObject({ message: "unterminated string starting here", offset: 5, length: 4 });
    expect(lexError('"abc')).toMatchObject({ message: "unterminated string starting here", offset: 0 });
    expect(lexError("'it''")).toMatchObject({ message: "unterminated string starting here", offset: 0 });
    expect(lexError('"abc\\')).toMatchObject({ message: "unterminated string starting here", offset: 0 });
    expect(lexError('a == "x\\"')).toMatchObject({ message: "unterminated string starting here", offset: 5 });
  });

  it("reports an unknown escape at the backslash", () => {
    expect(lexError('"a\\qb"')).toMatchObject({ message: "unknown escape sequence '\\q'", offset: 2, length: 2 });
  });

  it("reports unexpected characters with hints", () => {
    expect(lexError("a = b")).toEqual({ message: "unexpected character '='", offset: 2, length: 1, hint: "did you mean '=='?" });
    expect(lexError("a & b")).toMatchObject({ offset: 2, hint: "did you mean '&&'?" });
    expect(lexError("a | b")).toMatchObject({ offset: 2, hint: "did you mean '||'?" });
    expect(lexError("a + b")).toMatchObject({ message: "unexpected character '+'", offset: 2, hint: "arithmetic is not supported" });
    expect(lexError("needs.*.result")).toMatchObject({ offset: 6, hint: "wildcards like 'needs.*.result' are not supported" });
    expect(lexError("a == `x`")).toMatchObject({ offset: 5 });
    expect(lexError("${{ a }} && b")).toMatchObject({ offset: 0, length: 3 });
    expect(lexError("a # b")).toEqual({ message: "unexpected character '#'", offset: 2, length: 1 });
  });

  it("ends with eof at the source length", () => {
    expect(lex("")).toEqual([{ kind: "eof", start: 0, end: 0 }]);
    expect(lex("a  ").at(-1)).toEqual({ kind: "eof", start: 3, end: 3 });
  });
});
