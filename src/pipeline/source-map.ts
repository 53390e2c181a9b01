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
  hint?: string;
}

/** What to do about the YAML errors people make most; the parser's message says only what is wrong. */
const SYNTAX_HINTS: Partial<Record<string, string>> = {
  DUPLICATE_KEY: "a key may appear once per map; merge the two entries or rename one",
  TAB_AS_INDENT: "indent with spaces; YAML does not allow tabs for indentation",
  MISSING_CHAR: "close the quote or bracket that was opened",
  BLOCK_AS_IMPLICIT_KEY: "quote a value that contains ': ', or put a nested map on its own indented lines",
};

export class YamlSource {
  readonly document: Document.Parsed;
  private readonly lines = new LineCounter();

  constructor(readonly text: string) {
    this.document = parseDocument(text, { lineCounter: this.lines, merge: true, uniqueKeys: true, prettyErrors: false });
  }

  syntaxErrors(): YamlSyntaxError[] {
    return this.document.errors.map((error) => {
      const hint = SYNTAX_HINTS[error.code];
      return {
        message: error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""),
        position: this.positionOf(error.pos[0]),
        ...(hint ? { hint } : {}),
      };
    });
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
        // A key with no value (`push:`) has no node, or an empty null one after the colon: point at the key.
        const valueStart = isEmptyScalar(pair.value) ? undefined : rangeStart(pair.value);
        node = pair.value;
        start = valueStart ?? keyStart ?? start;
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

function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && !!node.range && node.range[0] === node.range[1];
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
    // The header line (`|`, `>-`, `|2`, a comment) holds no content. The block's indent is what the
    // first non-empty line has in the text beyond what it keeps in the value (an indentation
    // indicator or more-indented first line makes the two differ).
    const newline = text.indexOf("\n", i);
    i = newline === -1 || newline >= end ? end : newline + 1;
    const sourceLead = /^(?:[ \t]*\r?\n)*( *)/.exec(text.slice(i, end))?.[1]?.length ?? 0;
    const valueLead = /^(?:[ \t]*\n)*( *)/.exec(value)?.[1]?.length ?? 0;
    indent = Math.max(0, sourceLead - valueLead);
    skipIndent();
  }
  const target = Math.min(offset, value.length);
  for (let v = 0; v < target && i < end; ) {
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
      const length = next === "x" ? 4 : next === "u" ? 6 : next === "U" ? 10 : 2;
      // `\U0001F600` is one code point but two UTF-16 units of the value.
      v += next === "U" ? String.fromCodePoint(Number.parseInt(text.slice(i + 2, i + 10), 16) || 0).length : 1;
      i += length;
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
  // Line breaks and indentation before the wanted character are not part of it: step over them.
  if (target < value.length) {
    const wanted = value[target];
    while (i < end && text[i] !== wanted) {
      if (text[i] === "\n") {
        i++;
        skipIndent();
      } else if (text[i] === "\r" || text[i] === " " || text[i] === "\t") {
        i++;
      } else if (type === "QUOTE_DOUBLE" && text[i] === "\\" && (text[i + 1] === "\n" || text[i + 1] === "\r")) {
        i = text.indexOf("\n", i) + 1;
        skipIndent();
      } else {
        break;
      }
    }
  }
  return Math.min(i, end);
}
