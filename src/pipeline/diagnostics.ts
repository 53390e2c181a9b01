// Problems found in a pipeline file, each pointing at file, line, column and field.

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  /** Field path, e.g. `jobs.build.steps[0].run`; empty for problems of the whole file. */
  path: string;
  message: string;
  hint?: string;
}

export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return list
    .filter((d) => {
      const key = `${d.file}:${d.line}:${d.column}:${d.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

export interface DiagnosticStyle {
  error(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const plain: DiagnosticStyle = { error: (t) => t, dim: (t) => t, bold: (t) => t };

/**
 * Compiler-style report: location, message, field, the source line with a caret, the hint.
 * `sourceLine` returns the text of a line of the diagnostic's file.
 */
export function formatDiagnostic(d: Diagnostic, sourceLine?: (line: number) => string | undefined, style: DiagnosticStyle = plain): string {
  const lines = [`${style.bold(`${d.file}:${d.line}:${d.column}`)}: ${style.error("error")}: ${d.message}`];
  if (d.path) lines.push(style.dim(`  at ${d.path}`));
  const text = sourceLine?.(d.line);
  if (text !== undefined) {
    const gutter = String(d.line);
    lines.push(style.dim(`  ${gutter} | `) + text);
    lines.push(style.dim(`  ${" ".repeat(gutter.length)} | `) + " ".repeat(Math.max(0, d.column - 1)) + style.error("^"));
  }
  if (d.hint) lines.push(`  hint: ${d.hint}`);
  return lines.join("\n");
}
