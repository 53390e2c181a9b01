// The last lines a version printed (stdout and stderr together), kept for error messages: a
// version that does not start is reported with what it said. Memory is bounded: a fixed number of
// lines, each cut to a fixed length.
import { StringDecoder } from "node:string_decoder";

const MAX_LINE = 2000;

export class OutputTail {
  private readonly lines: string[] = [];
  private readonly partial = new Map<NodeJS.ReadableStream, { decoder: StringDecoder; text: string }>();

  constructor(private readonly keep = 40) {}

  /** Collects lines from a stream until it ends. */
  follow(stream: NodeJS.ReadableStream): void {
    const state = { decoder: new StringDecoder("utf8"), text: "" };
    this.partial.set(stream, state);
    stream.on("data", (chunk: Buffer) => {
      const parts = (state.text + state.decoder.write(chunk)).split("\n");
      state.text = parts.pop()!.slice(-MAX_LINE);
      for (const line of parts) this.push(line);
    });
    stream.once("end", () => {
      const last = state.text + state.decoder.end();
      if (last.length > 0) this.push(last);
      this.partial.delete(stream);
    });
  }

  /** The kept lines, oldest first, with any unfinished last line. */
  get(): string[] {
    const unfinished = [...this.partial.values()].map((state) => state.text).filter((text) => text.length > 0);
    return [...this.lines, ...unfinished].slice(-this.keep);
  }

  private push(line: string): void {
    this.lines.push((line.endsWith("\r") ? line.slice(0, -1) : line).slice(0, MAX_LINE));
    if (this.lines.length > this.keep) this.lines.shift();
  }
}
