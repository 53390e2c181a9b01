// Finds every occurrence of a fixed set of strings in one pass over the text (Wu–Manber). A window
// as long as the shortest value slides along the text; a small table says, from the two characters
// that end the window, how far it can move without stepping over an occurrence, and only windows
// ending like some value's beginning are compared. Log text rarely looks like a secret, so windows
// mostly move by nearly the shortest value's length: a line costs a fraction of a scan by a regular
// expression alternating the same values (which visits every character), and of an indexOf per value.
// The table is 4 KiB per searcher (one per job with secrets): a hash collision only costs a compare.

const TABLE_BITS = 12;
const TABLE_MASK = (1 << TABLE_BITS) - 1;

export class LiteralSearch {
  /** Length of the window: the shortest value's. */
  private readonly window: number;
  /** Characters hashed per step: 2, or 1 when a value is a single character. */
  private readonly block: number;
  private readonly shift: Uint8Array;
  /** Hash of a window's last block → the values whose first `window` characters end that way. */
  private readonly candidates = new Map<number, string[]>();

  /** `values`: non-empty strings. */
  constructor(readonly values: readonly string[]) {
    if (values.length === 0 || values.some((value) => value.length === 0)) throw new TypeError("LiteralSearch: values must be non-empty strings");
    this.window = Math.min(...values.map((value) => value.length));
    this.block = Math.min(2, this.window);
    const longest = Math.min(255, this.window - this.block + 1);
    this.shift = new Uint8Array(TABLE_MASK + 1).fill(longest);
    for (const value of values) {
      for (let end = this.block - 1; end < this.window; end++) {
        const hash = this.hash(value, end);
        this.shift[hash] = Math.min(this.shift[hash]!, this.window - 1 - end);
      }
      const last = this.hash(value, this.window - 1);
      const list = this.candidates.get(last);
      if (list) list.push(value);
      else this.candidates.set(last, [value]);
    }
  }

  /** Whether some value occurs in `text`. */
  test(text: string): boolean {
    return this.next(text, 0) !== -1;
  }

  /**
   * Every occurrence in `text`, by increasing start (overlapping ones included, several values at
   * one start in no particular order): calls `found(start, end)` with end exclusive.
   */
  forEach(text: string, found: (start: number, end: number) => void): void {
    for (let start = this.next(text, 0); start !== -1; start = this.next(text, start + 1)) {
      for (const value of this.candidates.get(this.hash(text, start + this.window - 1))!) {
        if (text.startsWith(value, start)) found(start, start + value.length);
      }
    }
  }

  /** The first start at or after `from` where some value occurs, or -1. */
  private next(text: string, from: number): number {
    const { window, shift } = this;
    const length = text.length;
    let end = from + window - 1;
    // The hot loop of masking, for every line: the hash is inlined (a call per step costs more).
    if (this.block === 2) {
      while (end < length) {
        const hash = ((text.charCodeAt(end - 1) << 5) ^ text.charCodeAt(end)) & TABLE_MASK;
        const step = shift[hash]!;
        if (step !== 0) end += step;
        else if (this.matchesAt(text, end - window + 1, hash)) return end - window + 1;
        else end++;
      }
    } else {
      while (end < length) {
        const hash = text.charCodeAt(end) & TABLE_MASK;
        const step = shift[hash]!;
        if (step !== 0) end += step;
        else if (this.matchesAt(text, end - window + 1, hash)) return end - window + 1;
        else end++;
      }
    }
    return -1;
  }

  private matchesAt(text: string, start: number, hash: number): boolean {
    for (const value of this.candidates.get(hash)!) if (text.startsWith(value, start)) return true;
    return false;
  }

  /** Hash of the block of characters ending at `end`. */
  private hash(text: string, end: number): number {
    return this.block === 2 ? ((text.charCodeAt(end - 1) << 5) ^ text.charCodeAt(end)) & TABLE_MASK : text.charCodeAt(end) & TABLE_MASK;
  }
}
