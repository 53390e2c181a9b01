// Replaces secret values in log text with `***`. Besides each value itself it masks each line of a
// multi-line value (a tool may print one line of a key) and the base64 forms of values of 6+
// characters (a value often appears base64-encoded, e.g. in an Authorization header), as GitHub
// Actions does. Overlapping or adjacent occurrences become a single `***`, so no fragment of one
// secret survives next to another. A line is searched for all values at once, in one pass
// (literal-search.ts); only a line that holds a secret is searched again, to mask it.
import { LiteralSearch } from "./literal-search";

const MASK = "***";
const MIN_BASE64_LENGTH = 6;

/** [start, end) of masked text; `continued` marks a run already masked in an earlier chunk. */
interface Interval {
  start: number;
  end: number;
  continued: boolean;
}

export class SecretMasker {
  /** Unique values, longest first. */
  readonly values: readonly string[];
  private readonly byFirstChar = new Map<number, string[]>();
  private readonly search: LiteralSearch | null;

  constructor(secrets: Iterable<string>) {
    const values = new Set<string>();
    for (const secret of secrets) {
      if (secret.trim() === "") continue;
      values.add(secret);
      if (/[\r\n]/.test(secret)) {
        for (const line of secret.split(/\r?\n|\r/)) if (line.trim() !== "") values.add(line);
      }
      if (secret.length >= MIN_BASE64_LENGTH) for (const core of base64Cores(secret)) values.add(core);
    }
    this.values = [...values].sort((a, b) => b.length - a.length);
    for (const value of this.values) {
      const first = value.charCodeAt(0);
      const list = this.byFirstChar.get(first);
      if (list) list.push(value);
      else this.byFirstChar.set(first, [value]);
    }
    this.search = this.values.length === 0 ? null : new LiteralSearch(this.values);
  }

  /** Length of the longest value masked: a stream must hold back fewer characters than this. */
  get maxLength(): number {
    return this.values[0]?.length ?? 0;
  }

  maskLine(text: string): string {
    // The test allocates nothing: most lines end there.
    if (this.search === null || !this.search.test(text)) return text;
    return render(text, this.find(text, null), text.length).text;
  }

  /** Occurrences in `text`, merged; `carry` adds a run continued from earlier text at its start. */
  find(text: string, carry: number | null): Interval[] {
    const merged: Interval[] = [];
    if (carry !== null) merged.push({ start: 0, end: carry, continued: true });
    // Occurrences come by increasing start, so each either extends the last run or starts one.
    this.search?.forEach(text, (start, end) => {
      const last = merged[merged.length - 1];
      if (last && start <= last.end) last.end = Math.max(last.end, end);
      else merged.push({ start, end, continued: false });
    });
    return merged;
  }

  /** Length of the longest suffix of `text` that is a proper prefix of some value (0 if none). */
  pendingPrefixLength(text: string): number {
    const longest = Math.min(this.maxLength - 1, text.length);
    for (let start = text.length - longest; start < text.length; start++) {
      const candidates = this.byFirstChar.get(text.charCodeAt(start));
      if (!candidates) continue;
      const length = text.length - start;
      for (const value of candidates) {
        if (value.length > length && startsWithAt(value, text, start)) return length;
      }
    }
    return 0;
  }
}

/**
 * Masks text that arrives in arbitrary chunks: a value split across chunks is still masked. push()
 * returns what is safe to emit now and holds back at most maxLength-1 trailing characters (only
 * while they could be the start of a value); flush() returns the rest at the end.
 */
export class StreamMasker {
  private readonly masker: SecretMasker;
  private held = "";
  /** Masked characters at the start of `held` already shown as `***` (0: a mask ended right there). */
  private carry: number | null = null;

  constructor(secrets: SecretMasker | Iterable<string>) {
    this.masker = secrets instanceof SecretMasker ? secrets : new SecretMasker(secrets);
  }

  push(chunk: string): string {
    const text = this.held + chunk;
    if (this.masker.values.length === 0) {
      this.held = "";
      return text;
    }
    return this.emit(text, text.length - this.masker.pendingPrefixLength(text));
  }

  flush(): string {
    const text = this.held;
    const out = this.masker.values.length === 0 ? text : this.emit(text, text.length);
    this.held = "";
    this.carry = null;
    return out;
  }

  private emit(text: string, cut: number): string {
    if (cut === 0) {
      this.held = text; // everything may still be a value's start; the carry stays as it is
      return "";
    }
    const rendered = render(text, this.masker.find(text, this.carry), cut);
    this.held = text.slice(cut);
    this.carry = rendered.carry;
    return rendered.text;
  }
}

/** Text before `cut` with intervals masked, and how much of a masked run reaches past `cut`. */
function render(text: string, intervals: Interval[], cut: number): { text: string; carry: number | null } {
  let out = "";
  let position = 0;
  for (const interval of intervals) {
    if (interval.start >= cut) break;
    out += text.slice(position, interval.start);
    if (!interval.continued) out += MASK;
    if (interval.end >= cut) return { text: out, carry: interval.end - cut };
    position = interval.end;
  }
  return { text: out + text.slice(position, cut), carry: null };
}

function startsWithAt(value: string, text: string, start: number): boolean {
  for (let i = 0; start + i < text.length; i++) {
    if (value.charCodeAt(i) !== text.charCodeAt(start + i)) return false;
  }
  return true;
}

/**
 * The parts of base64(value) that do not depend on neighbouring bytes, for each of the three byte
 * offsets at which the value can start inside a longer encoded text.
 */
export function base64Cores(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const cores: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64");
    // Character i encodes bits [6i, 6i+6); keep those lying entirely within the value's bytes.
    const first = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + bytes.length)) / 6);
    const core = encoded.slice(first, end);
    if (core.length > 0) cores.push(core);
  }
  return cores;
}
