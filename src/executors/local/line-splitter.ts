// Turns a byte stream into whole lines: \n and \r\n endings, a last line without a newline, UTF-8
// characters split across chunks. Memory stays bounded: a line longer than maxLength characters is
// handed out in maxLength pieces as it arrives instead of being buffered whole. Optionally a line
// ending with a boundary token (written by the step launcher after each step, see step-launcher.ts)
// is reported as the unterminated last line before it (if any) followed by the boundary.
import { StringDecoder } from "node:string_decoder";

export const MAX_LINE_LENGTH = 64 * 1024;

export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private partial = "";

  /** A partial line is cut only when longer than this, so that a boundary token is never cut. */
  private readonly cutAbove: number;

  constructor(
    private readonly onLine: (text: string) => void,
    private readonly maxLength = MAX_LINE_LENGTH,
    private readonly boundary?: { token: string; onBoundary: () => void },
  ) {
    this.cutAbove = maxLength + (boundary ? boundary.token.length : 0);
  }

  write(chunk: Buffer): void {
    this.consume(this.decoder.write(chunk));
  }

  /** The stream ended: the unterminated last line (if any) is a line too. */
  end(): void {
    this.consume(this.decoder.end());
    this.flushPartial();
  }

  /** Hands out the unterminated line so far as a whole line (its writer is done with it). */
  flushPartial(): void {
    if (this.partial.length === 0) return;
    const last = this.partial;
    this.partial = "";
    this.emit(stripCarriageReturn(last));
  }

  private consume(text: string): void {
    let start = 0;
    for (;;) {
      const newline = text.indexOf("\n", start);
      if (newline === -1) break;
      const segment = text.slice(start, newline);
      const line = this.partial.length > 0 ? this.partial + segment : segment;
      this.partial = "";
      start = newline + 1;
      if (this.boundary && line.endsWith(this.boundary.token)) {
        const before = line.slice(0, line.length - this.boundary.token.length);
        if (before.length > 0) this.emit(stripCarriageReturn(before));
        this.boundary.onBoundary();
        continue;
      }
      this.emit(stripCarriageReturn(line));
    }
    if (start < text.length) {
      this.partial += start === 0 ? text : text.slice(start);
      // Strictly longer: a line of exactly maxLength followed by "\n" must stay one line, not a
      // piece plus an empty line.
      while (this.partial.length > this.cutAbove) {
        const cut = pieceEnd(this.partial, this.maxLength);
        this.onLine(this.partial.slice(0, cut));
        this.partial = this.partial.slice(cut);
      }
    }
  }

  private emit(line: string): void {
    let rest = line;
    while (rest.length > this.maxLength) {
      const cut = pieceEnd(rest, this.maxLength);
      this.onLine(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    this.onLine(rest);
  }
}

function stripCarriageReturn(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

/** Never cut a surrogate pair in half: the piece would end in an invalid character. */
function pieceEnd(text: string, maxLength: number): number {
  const code = text.charCodeAt(maxLength - 1);
  return code >= 0xd800 && code <= 0xdbff ? maxLength - 1 : maxLength;
}
