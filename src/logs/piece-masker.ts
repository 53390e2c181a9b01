// Masks log lines that may be pieces of one longer line. Executors hand out lines, but a line longer
// than their limit (64 KiB for the local executor) arrives as several successive lines of the same
// attempt, step and stream, with no newline between them in what the step printed. A secret that
// straddles such a cut is split across two lines and neither half matches on its own, so a piece
// that may continue goes through a StreamMasker that stays open for the next piece: the masked text
// is emitted at once except for a tail that could be the start of a secret (shorter than the longest
// secret), which moves to the start of the next piece. Whole lines take the plain SecretMasker path.
//
// A tail is released as a line of its own when its continuation can no longer come: another
// attempt, another step (steps run one after another), or the end of the log. Lines of the executor
// itself (step null) release nothing, since they can appear in the middle of a step's long line.
import { type SecretMasker, StreamMasker } from "./secret-masker";
import { isHighSurrogate, toWellFormed } from "./line-text";
import type { LogLine, LogStream } from "./log-store";

interface Open {
  attempt: number;
  step: number | null;
  stream: LogStream;
  /** Time of the last piece, given to a tail released on its own. */
  at: number;
  masker: StreamMasker;
  /** A high surrogate that ended the last piece: its low half starts the next one. */
  high: string;
}

export class PieceMasker {
  private readonly open = new Map<string, Open>();

  constructor(private readonly masker: SecretMasker) {}

  /**
   * The masked, well-formed text to store for `line` now. With `continues` the result may lack a
   * held-back tail (it can even be empty); that tail starts the text returned for the next piece.
   */
  mask(line: LogLine, continues: boolean): string {
    if (this.open.size === 0 && !continues) return this.masker.maskLine(toWellFormed(line.text));
    const key = `${line.attempt}:${line.step}:${line.stream}`;
    let state = this.open.get(key);
    if (!state && !continues) return this.masker.maskLine(toWellFormed(line.text));
    if (!state) {
      state = { attempt: line.attempt, step: line.step, stream: line.stream, at: line.at, masker: new StreamMasker(this.masker), high: "" };
      this.open.set(key, state);
    }
    let text = state.high + line.text;
    state.high = "";
    state.at = line.at;
    if (continues && text.length > 0 && isHighSurrogate(text.charCodeAt(text.length - 1))) {
      state.high = text.slice(-1);
      text = text.slice(0, -1);
    }
    const out = state.masker.push(toWellFormed(text));
    if (continues) return out;
    this.open.delete(key);
    return out + state.masker.flush();
  }

  /** Whether some piece's tail is held back (then `release` may have something to hand out). */
  get holding(): boolean {
    return this.open.size > 0;
  }

  /**
   * Tails that can no longer continue once `line` arrives (another attempt, or another step), or all
   * of them when `line` is omitted (the log ends). Each comes back as a line to store.
   */
  release(line?: LogLine): LogLine[] {
    const released: LogLine[] = [];
    for (const [key, state] of this.open) {
      if (line && state.attempt === line.attempt && (line.step === null || state.step === null || state.step === line.step)) continue;
      this.open.delete(key);
      const text = state.masker.flush() + (state.high === "" ? "" : "\uFFFD");
      if (text !== "") released.push({ at: state.at, attempt: state.attempt, step: state.step, stream: state.stream, text });
    }
    return released;
  }
}
