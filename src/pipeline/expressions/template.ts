// Templates: text with `${{ expr }}` parts, and conditions optionally wrapped in `${{ }}`.
// The closing `}}` is found outside string literals, so `${{ format('{0}}}', x) }}` closes at the end.

import type { Expr } from "./ast";
import { checkExpression } from "./check";
import { evaluate } from "./evaluate";
import { parseExpression } from "./parser";
import type { CheckOptions, EvalContext, ExpressionError } from "./types";
import { stringify } from "./values";

export type TemplatePart =
  | { kind: "text"; text: string; start: number }
  /** `start` is the offset of the (trimmed) expression source inside the template. */
  | { kind: "expr"; source: string; expr: Expr; start: number };

export type TemplateResult = { ok: true; parts: TemplatePart[] } | { ok: false; errors: ExpressionError[] };

const OPEN = "${{";
const CLOSE = "}}";

export function hasExpressions(source: string): boolean {
  return source.includes(OPEN);
}

/**
 * Offset of the `}}` closing the `${{` at `openAt`, skipping string literals; undefined if there is
 * none. When a string literal runs to the end, falls back to the first `}}` so that the parser can
 * report the unterminated string precisely.
 */
export function findClose(source: string, openAt: number): number | undefined {
  let i = openAt + OPEN.length;
  while (i < source.length) {
    const c = source[i];
    if (c === "'" || c === '"') {
      const end = skipString(source, i);
      if (end === undefined) break;
      i = end;
    } else if (source.startsWith(CLOSE, i)) {
      return i;
    } else {
      i++;
    }
  }
  const naive = source.indexOf(CLOSE, openAt + OPEN.length);
  return naive === -1 ? undefined : naive;
}

/** Offset just after the string literal starting at `start`, or undefined if it is not closed. */
function skipString(source: string, start: number): number | undefined {
  const quote = source[start];
  let i = start + 1;
  while (i < source.length) {
    const c = source[i];
    if (quote === '"' && c === "\\") i += 2;
    else if (c === quote && quote === "'" && source[i + 1] === "'") i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  return undefined;
}

function leadingSpace(text: string): number {
  return text.length - text.trimStart().length;
}

export function parseTemplate(source: string, options?: CheckOptions): TemplateResult {
  const parts: TemplatePart[] = [];
  const errors: ExpressionError[] = [];
  let position = 0;
  while (position < source.length) {
    const open = source.indexOf(OPEN, position);
    if (open === -1) break;
    if (open > position) parts.push({ kind: "text", text: source.slice(position, open), start: position });
    const close = findClose(source, open);
    if (close === undefined) {
      errors.push({ message: `unclosed '${OPEN}' — expected '${CLOSE}'`, offset: open, length: OPEN.length });
      return { ok: false, errors };
    }
    const inner = source.slice(open + OPEN.length, close);
    const start = open + OPEN.length + leadingSpace(inner);
    const exprSource = inner.trim();
    position = close + CLOSE.length;
    if (exprSource === "") {
      errors.push({ message: `empty expression in '${OPEN} ${CLOSE}'`, offset: open, length: position - open });
      continue;
    }
    const parsed = parseExpression(exprSource);
    if (!parsed.ok) {
      errors.push({ ...parsed.error, offset: parsed.error.offset + start });
      continue;
    }
    for (const problem of checkExpression(parsed.expr, options)) errors.push({ ...problem, offset: problem.offset + start });
    parts.push({ kind: "expr", source: exprSource, expr: parsed.expr, start });
  }
  if (position < source.length) parts.push({ kind: "text", text: source.slice(position), start: position });
  return errors.length === 0 ? { ok: true, parts } : { ok: false, errors };
}

export function renderTemplate(parts: readonly TemplatePart[], context: EvalContext): string {
  let out = "";
  for (const part of parts) out += part.kind === "text" ? part.text : stringify(evaluate(part.expr, context));
  return out;
}

/**
 * `${{ branch == 'main' }}` → `branch == 'main'` with `offset` = characters removed at the start, so
 * error offsets in the result map back by adding it. Anything not wrapped as a whole (including
 * `${{ a }} && ${{ b }}`) is returned unchanged with offset 0.
 */
export function stripConditionWrapper(source: string): { source: string; offset: number } {
  const open = leadingSpace(source);
  if (!source.startsWith(OPEN, open)) return { source, offset: 0 };
  const close = findClose(source, open);
  if (close === undefined || source.slice(close + CLOSE.length).trim() !== "") return { source, offset: 0 };
  const inner = source.slice(open + OPEN.length, close);
  return { source: inner.trim(), offset: open + OPEN.length + leadingSpace(inner) };
}
