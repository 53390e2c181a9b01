// Static checks run before any evaluation: unknown root names, unknown functions, wrong argument
// counts and malformed literal format strings. Reports every problem, each with its offset.

import type { CallExpr, Expr, NameExpr } from "./ast";
import { walk } from "./ast";
import { parseFormat } from "./format";
import { BUILTIN_FUNCTIONS, describeArity } from "./functions";
import { parseExpression } from "./parser";
import { closestMatch } from "./suggest";
import type { CheckOptions, ExpressionError } from "./types";

/** Root identifiers allowed when the caller does not say otherwise. */
export const DEFAULT_ROOTS: readonly string[] = ["event", "ref", "branch", "tag", "sha", "inputs", "env", "matrix", "needs"];

export type CompileResult = { ok: true; expr: Expr } | { ok: false; errors: ExpressionError[] };

function error(message: string, offset: number, length: number, hint: string | undefined): ExpressionError {
  return hint === undefined ? { message, offset, length } : { message, offset, length, hint };
}

export function checkExpression(expr: Expr, options: CheckOptions = {}): ExpressionError[] {
  const roots = new Set(options.roots ?? DEFAULT_ROOTS);
  const functions = new Set([...BUILTIN_FUNCTIONS.keys(), ...(options.functions ?? [])]);
  const errors: ExpressionError[] = [];
  for (const node of walk(expr)) {
    if (node.kind === "name") {
      const problem = checkName(node, roots, functions);
      if (problem !== undefined) errors.push(problem);
    } else if (node.kind === "call") {
      errors.push(...checkCall(node, roots, functions));
    }
  }
  return errors.sort((a, b) => a.offset - b.offset);
}

/** Parse, then check. */
export function compileExpression(source: string, options?: CheckOptions): CompileResult {
  const parsed = parseExpression(source);
  if (!parsed.ok) return { ok: false, errors: [parsed.error] };
  const errors = checkExpression(parsed.expr, options);
  return errors.length === 0 ? { ok: true, expr: parsed.expr } : { ok: false, errors };
}

function listOf(names: Iterable<string>): string {
  return [...names].map((n) => `'${n}'`).join(", ");
}

function checkName(node: NameExpr, roots: ReadonlySet<string>, functions: ReadonlySet<string>): ExpressionError | undefined {
  if (roots.has(node.name)) return undefined;
  let hint: string | undefined;
  if (functions.has(node.name)) {
    hint = `'${node.name}' is a function — did you mean '${node.name}()'?`;
  } else {
    const match = closestMatch(node.name, roots);
    if (match !== undefined) hint = `did you mean '${match}'?`;
    else if (roots.size > 0) hint = `available names: ${listOf(roots)}`;
  }
  return error(`unknown name '${node.name}'`, node.start, node.end - node.start, hint);
}

function checkCall(node: CallExpr, roots: ReadonlySet<string>, functions: ReadonlySet<string>): ExpressionError[] {
  const nameLength = node.nameEnd - node.start;
  if (!functions.has(node.name)) {
    let hint: string | undefined;
    const match = closestMatch(node.name, functions);
    if (match !== undefined) hint = `did you mean '${match}'?`;
    else if (roots.has(node.name)) hint = `'${node.name}' is a value, not a function — remove the '()'`;
    else hint = `available functions: ${listOf(functions)}`;
    return [error(`unknown function '${node.name}'`, node.start, nameLength, hint)];
  }
  const builtin = BUILTIN_FUNCTIONS.get(node.name);
  if (builtin === undefined) return []; // a caller-supplied function: any arity
  const count = node.args.length;
  if (count < builtin.minArgs || count > builtin.maxArgs) {
    return [error(`${describeArity(node.name, builtin)}, got ${count}`, node.start, node.end - node.start, undefined)];
  }
  return node.name === "format" ? checkFormat(node) : [];
}

/** A literal format string must be well-formed and every `{N}` must have an argument. */
function checkFormat(node: CallExpr): ExpressionError[] {
  const format = node.args[0];
  if (format === undefined || format.kind !== "literal" || typeof format.value !== "string") return [];
  const length = format.end - format.start;
  const parsed = parseFormat(format.value);
  if (!parsed.ok) return [error(`invalid format string: ${parsed.message}`, format.start, length, undefined)];
  const available = node.args.length - 1;
  const errors: ExpressionError[] = [];
  const reported = new Set<number>();
  for (const piece of parsed.pieces) {
    if (piece.kind === "arg" && piece.index >= available && !reported.has(piece.index)) {
      reported.add(piece.index);
      const given = available === 0 ? "no arguments follow" : `only ${available} argument${available === 1 ? "" : "s"} follow${available === 1 ? "s" : ""}`;
      errors.push(error(`format string uses {${piece.index}} but ${given} the format string`, format.start, length, undefined));
    }
  }
  return errors;
}
