// Maps a field path of the parsed YAML (e.g. jobs.build.steps[0].run) back to line and column.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Scalar } from "yaml";

export type FieldPath = ReadonlyArray<string | number>;

export interface SourcePosition {
  line: number;
  column: number;
}

export interface YamlSyntaxError {
  message: string;
  position: SourcePosition;
}

export class YamlSource {
  readonly document: Document.Parsed;
  private readonly lines = new LineCounter();

  constructor(readonly text: string) {
    this.document = parseDocument(text, { lineCounter: this.lines, merge: true, uniqueKeys: true, prettyErrors: false });
  }

  syntaxErrors(): YamlSyntaxError[] {
    return this.document.errors.map((error) => ({
      message: error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""),
      position: this.positionOf(error.pos[0]),
    }));
  }

  toJS(): unknown {
    return this.document.toJS({ maxAliasCount: 1000 });
  }

  positionOf(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /**
   * Where a path points. `keyOf` asks for the key of the last segment (unknown keys); a path that
   * runs past what exists (a missing field) points at the deepest node that does exist.
   * `innerOffset` moves inside a scalar, for expression errors.
   */
  locate(path: FieldPath, options: { keyOf?: boolean; innerOffset?: number } = {}): SourcePosition {
    let node: unknown = this.document.contents;
    let start = rangeStart(node) ?? 0;
    for (let i = 0; i < path.length; i++) {
      node = this.deref(node);
      const segment = path[i]!;
      const isLast = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
        if (!pair || !isPair(pair)) break;
        const keyStart = rangeStart(pair.key);
        if (isLast && options.keyOf && keyStart !== undefined) return this.positionOf(keyStart);
        const valueStart = rangeStart(pair.value);
        node = pair.value;
        start = valueStart ?? keyStart ?? start;
        // A key with no value (`push:`) has no node of its own: point at the key.
        if (valueStart === undefined) break;
      } else if (isSeq(node) && typeof segment === "number") {
        const item = node.items[segment];
        const itemStart = rangeStart(item);
        if (itemStart === undefined) break;
        node = item;
        start = itemStart;
      } else {
        break;
      }
    }
    node = this.deref(node);
    if (options.innerOffset !== undefined && isScalar(node) && node.range) {
      return this.positionOf(scalarSourceOffset(this.text, node.range[0], node.range[1], node.type, String(node.value), options.innerOffset));
    }
    return this.positionOf(start);
  }

  sourceLine(line: number): string {
    const starts = this.lines.lineStarts;
    const begin = starts[line - 1] ?? this.text.length;
    const end = starts[line] ?? this.text.length;
    return this.text.slice(begin, end).replace(/\r?\n$/, "");
  }

  private deref(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.document) : node;
  }
}

function rangeStart(node: unknown): number | undefined {
  return node && typeof node === "object" && "range" in node ? (node as Node).range?.[0] : undefined;
}

/**
 * Aligns a scalar's value with its source text to find where the value's `offset`-th character is
 * written. Quotes, escapes, `''`, block headers, indentation and line folding make them differ; a
 * bounded look-ahead loses its place in an indented `run: |` block, so this follows the styles.
 */
function scalarSourceOffset(text: string, start: number, end: number, type: Scalar.Type | undefined, value: string, offset: number): number {
  const block = type === "BLOCK_LITERAL" || type === "BLOCK_FOLDED";
  let i = start;
  let indent = 0;
  // Skips the indentation that begins a line: the block's own indent, or all of it in flow scalars.
  const skipIndent = () => {
    if (!block) {
      while (i < end && (text[i] === " " || text[i] === "\t")) i++;
      return;
    }
    for (let n = 0; n < indent && i < end && text[i] === " "; n++) i++;
  };
  if (type === "QUOTE_DOUBLE" || type === "QUOTE_SINGLE") i++;
  if (block) {
    // The header line (`|`, `>-`, a comment) holds no content; the first non-empty line sets the indent.
    const newline = text.indexOf("\n", i);
    i = newline === -1 || newline >= end ? end : newline + 1;
    const firstContent = /^(?:[ \t]*\r?\n)*( *)/.exec(text.slice(i, end));
    indent = firstContent?.[1]?.length ?? 0;
    skipIndent();
  }
  for (let v = 0; v < Math.min(offset, value.length) && i < end; ) {
    const char = text[i]!;
    if (type === "QUOTE_SINGLE" && char === "'" && text[i + 1] === "'") {
      i += 2;
      v++;
    } else if (type === "QUOTE_DOUBLE" && char === "\\") {
      const next = text[i + 1];
      if (next === "\n" || next === "\r") {
        // An escaped line break joins the lines: no character of the value.
        i = text.indexOf("\n", i) + 1;
        skipIndent();
        continue;
      }
      i += next === "x" ? 4 : next === "u" ? 6 : next === "U" ? 10 : 2;
      v++;
    } else if (char === value[v]) {
      i++;
      v++;
      if (char === "\n") skipIndent();
    } else if (char === "\n") {
      // A folded line break: a space in the value, or nothing when blank lines follow.
      i++;
      if (value[v] === " ") v++;
      skipIndent();
    } else if (char === " " || char === "\t" || char === "\r") {
      i++; // trimmed trailing whitespace
    } else {
      i++;
      v++;
    }
  }
  return Math.min(i, end);
}
