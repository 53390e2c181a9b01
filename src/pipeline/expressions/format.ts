// `format('{0}-{1}', a, b)`: placeholders `{N}`, with `{{` and `}}` standing for literal braces.

export type FormatPiece = { kind: "text"; text: string } | { kind: "arg"; index: number; at: number };

export type FormatParse =
  | { ok: true; pieces: FormatPiece[] }
  | { ok: false; message: string; at: number };

/** Strict parse, for checking a literal format string: a lone `{` or `}` is an error. */
export function parseFormat(format: string): FormatParse {
  const pieces: FormatPiece[] = [];
  let text = "";
  let i = 0;
  while (i < format.length) {
    const c = format[i] as string;
    if (c === "{") {
      if (format[i + 1] === "{") {
        text += "{";
        i += 2;
        continue;
      }
      const match = /^\{(\d+)\}/.exec(format.slice(i));
      if (match === null) {
        return { ok: false, message: `'{' at position ${i} must be a placeholder like {0} or escaped as '{{'`, at: i };
      }
      if (text !== "") pieces.push({ kind: "text", text });
      text = "";
      pieces.push({ kind: "arg", index: Number(match[1]), at: i });
      i += match[0].length;
    } else if (c === "}") {
      if (format[i + 1] !== "}") {
        return { ok: false, message: `'}' at position ${i} must be escaped as '}}'`, at: i };
      }
      text += "}";
      i += 2;
    } else {
      text += c;
      i++;
    }
  }
  if (text !== "") pieces.push({ kind: "text", text });
  return { ok: true, pieces };
}

/**
 * Lenient formatting for evaluation, which never fails: a lone brace and a placeholder without a
 * matching argument are kept as written.
 */
export function formatString(format: string, args: readonly string[]): string {
  let out = "";
  let i = 0;
  while (i < format.length) {
    const c = format[i] as string;
    const next = format[i + 1];
    if ((c === "{" && next === "{") || (c === "}" && next === "}")) {
      out += c;
      i += 2;
      continue;
    }
    if (c === "{") {
      const match = /^\{(\d+)\}/.exec(format.slice(i));
      const arg = match === null ? undefined : args[Number(match[1])];
      if (match !== null && arg !== undefined) {
        out += arg;
        i += match[0].length;
        continue;
      }
    }
    out += c;
    i++;
  }
  return out;
}
