// Turns expression source into tokens. Names may contain `-` and `_` after the first character
// (`needs.unit-tests.result`); a `-` is part of a name only when a letter, digit or `_` follows it.

import type { ExpressionError } from "./types";

export type Punct = "(" | ")" | "[" | "]" | "." | "," | "!" | "-" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "&&" | "||";

export type Token =
  | { kind: "string"; value: string; start: number; end: number }
  | { kind: "number"; value: number; start: number; end: number }
  | { kind: "name"; value: string; start: number; end: number }
  | { kind: "punct"; value: Punct; start: number; end: number }
  | { kind: "eof"; start: number; end: number };

export type LexResult = { ok: true; tokens: Token[] } | { ok: false; error: ExpressionError };

const TWO_CHAR: readonly Punct[] = ["==", "!=", "<=", ">=", "&&", "||"];
const ONE_CHAR: readonly Punct[] = ["(", ")", "[", "]", ".", ",", "!", "-", "<", ">"];

export function isNameStart(c: string | undefined): boolean {
  return c !== undefined && /^[A-Za-z_]$/.test(c);
}

export function isNamePart(c: string | undefined): boolean {
  return c !== undefined && /^[A-Za-z0-9_]$/.test(c);
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

class LexFailure {
  constructor(readonly error: ExpressionError) {}
}

function fail(message: string, offset: number, length: number, hint?: string): never {
  throw new LexFailure(hint === undefined ? { message, offset, length } : { message, offset, length, hint });
}

/** Lexes the whole source; the token list always ends with an `eof` token. */
export function tokenize(source: string): LexResult {
  try {
    return { ok: true, tokens: lexAll(source) };
  } catch (e) {
    if (e instanceof LexFailure) return { ok: false, error: e.error };
    throw e;
  }
}

function lexAll(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'") {
      const [value, end] = lexSingleQuoted(src, i);
      tokens.push({ kind: "string", value, start, end });
      i = end;
    } else if (c === '"') {
      const [value, end] = lexDoubleQuoted(src, i);
      tokens.push({ kind: "string", value, start, end });
      i = end;
    } else if (isDigit(c)) {
      const [value, end] = lexNumber(src, i);
      tokens.push({ kind: "number", value, start, end });
      i = end;
    } else if (isNameStart(c)) {
      let end = i + 1;
      while (isNamePart(src[end]) || (src[end] === "-" && isNamePart(src[end + 1]))) end++;
      tokens.push({ kind: "name", value: src.slice(start, end), start, end });
      i = end;
    } else {
      const two = src.slice(i, i + 2) as Punct;
      if (TWO_CHAR.includes(two)) {
        tokens.push({ kind: "punct", value: two, start, end: i + 2 });
        i += 2;
      } else if (ONE_CHAR.includes(c as Punct)) {
        tokens.push({ kind: "punct", value: c as Punct, start, end: i + 1 });
        i++;
      } else {
        unexpectedCharacter(src, i);
      }
    }
  }
  tokens.push({ kind: "eof", start: src.length, end: src.length });
  return tokens;
}

function unexpectedCharacter(src: string, i: number): never {
  const c = src[i] ?? "";
  const message = `unexpected character '${c}'`;
  if (c === "=") fail(message, i, 1, "did you mean '=='?");
  if (c === "&") fail(message, i, 1, "did you mean '&&'?");
  if (c === "|") fail(message, i, 1, "did you mean '||'?");
  if (src.startsWith("${{", i)) fail(message, i, 3, "'${{ }}' may only wrap a whole condition, not appear inside one");
  if (c === "`") fail(message, i, 1, "strings are written in single quotes: 'text'");
  if (c === "*" && src[i - 1] === ".") fail(message, i, 1, "wildcards like 'needs.*.result' are not supported");
  if ("+*/%".includes(c)) fail(message, i, 1, "arithmetic is not supported");
  fail(message, i, 1);
}

/** `'it''s'` → `it's`. Returns the value and the offset just after the closing quote. */
function lexSingleQuoted(src: string, start: number): [string, number] {
  let value = "";
  let i = start + 1;
  for (;;) {
    const c = src[i];
    if (c === undefined) fail("unterminated string starting here", start, src.length - start, "close it with '");
    if (c === "'") {
      if (src[i + 1] === "'") {
        value += "'";
        i += 2;
        continue;
      }
      return [value, i + 1];
    }
    value += c;
    i++;
  }
}

const ESCAPES: Readonly<Record<string, string>> = { '"': '"', "\\": "\\", n: "\n", t: "\t", r: "\r", "'": "'" };

/** `"a\"b\n"` with backslash escapes. */
function lexDoubleQuoted(src: string, start: number): [string, number] {
  let value = "";
  let i = start + 1;
  for (;;) {
    const c = src[i];
    if (c === undefined) fail("unterminated string starting here", start, src.length - start, 'close it with "');
    if (c === '"') return [value, i + 1];
    if (c === "\\") {
      const next = src[i + 1];
      if (next === undefined) fail("unterminated string starting here", start, src.length - start, 'close it with "');
      const escaped = Object.hasOwn(ESCAPES, next) ? ESCAPES[next] : undefined;
      if (escaped === undefined) {
        fail(`unknown escape sequence '\\${next}'`, i, 2, `valid escapes are \\" \\\\ \\n \\t \\r \\'`);
      }
      value += escaped;
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
}

/** Integers, decimals, exponents (`1e3`) and hexadecimal (`0xff`). */
function lexNumber(src: string, start: number): [number, number] {
  let i = start;
  if (src[i] === "0" && (src[i + 1] === "x" || src[i + 1] === "X") && /[0-9a-fA-F]/.test(src[i + 2] ?? "")) {
    i += 2;
    while (/[0-9a-fA-F]/.test(src[i] ?? "")) i++;
  } else {
    while (isDigit(src[i])) i++;
    if (src[i] === "." && isDigit(src[i + 1])) {
      i++;
      while (isDigit(src[i])) i++;
    }
    if ((src[i] === "e" || src[i] === "E") && (isDigit(src[i + 1]) || (/[+-]/.test(src[i + 1] ?? "") && isDigit(src[i + 2])))) {
      i += 2;
      while (isDigit(src[i])) i++;
    }
  }
  if (isNamePart(src[i])) {
    let end = i;
    while (isNamePart(src[end]) || src[end] === "-") end++;
    fail(`invalid number '${src.slice(start, end)}'`, start, end - start, "names cannot start with a digit");
  }
  return [Number(src.slice(start, i)), i];
}
