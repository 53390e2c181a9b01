// Small text helpers shared by the writer and the stores: lines are JS strings, which may hold lone
// surrogates (a producer's invalid UTF-8 decoded loosely, or a piece cut mid-pair); stored text is
// always well-formed so every encoder downstream (PostgreSQL, JSON, the SSE socket) agrees on it.

const stringMethods = String.prototype as unknown as {
  isWellFormed?: (this: string) => boolean;
  toWellFormed?: (this: string) => string;
};
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` with each lone surrogate replaced by U+FFFD (String#toWellFormed where it exists). */
export function toWellFormed(text: string): string {
  const { isWellFormed, toWellFormed: native } = stringMethods;
  if (isWellFormed && native) return isWellFormed.call(text) ? text : native.call(text);
  return text.replace(LONE_SURROGATE, "\uFFFD");
}

/** Size of the line in a plain-text log: its UTF-8 bytes and the newline. */
export function lineBytes(text: string): number {
  return Buffer.byteLength(text, "utf8") + 1;
}

export function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** `text` cut into pieces of at most `maxLength` characters, never between a surrogate pair. */
export function splitPieces(text: string, maxLength: number): string[] {
  if (text.length <= maxLength) return [text];
  const pieces: string[] = [];
  let start = 0;
  while (text.length - start > maxLength) {
    let end = start + maxLength;
    if (maxLength > 1 && isHighSurrogate(text.charCodeAt(end - 1))) end--;
    pieces.push(text.slice(start, end));
    start = end;
  }
  pieces.push(text.slice(start));
  return pieces;
}
