// Evaluates a checked syntax tree against variables. Never throws for data reasons (missing
// properties are null, bad JSON is null, type mismatches compare false); it throws only when given
// a tree that checking would have rejected, such as a call to a function nobody supplied.

import type { Expr } from "./ast";
import { BUILTIN_FUNCTIONS } from "./functions";
import type { EvalContext, Value } from "./types";
import { compareValues, getProperty, isTruthy, looseEquals } from "./values";

export function evaluate(expr: Expr, context: EvalContext): Value {
  switch (expr.kind) {
    case "literal":
      return expr.value;
    case "name":
      return Object.hasOwn(context.variables, expr.name) ? (context.variables[expr.name] ?? null) : null;
    case "member":
      return getProperty(evaluate(expr.object, context), expr.property);
    case "index":
      return getProperty(evaluate(expr.object, context), evaluate(expr.index, context));
    case "not":
      return !isTruthy(evaluate(expr.operand, context));
    case "logical": {
      // Short-circuit, returning the deciding operand itself (like JavaScript and GitHub Actions).
      const left = evaluate(expr.left, context);
      if (expr.op === "&&" ? !isTruthy(left) : isTruthy(left)) return left;
      return evaluate(expr.right, context);
    }
    case "compare": {
      const left = evaluate(expr.left, context);
      const right = evaluate(expr.right, context);
      if (expr.op === "==") return looseEquals(left, right);
      if (expr.op === "!=") return !looseEquals(left, right);
      return compareValues(expr.op, left, right);
    }
    case "call":
      return callFunction(expr.name, expr.args, context);
  }
}

function callFunction(name: string, argExprs: readonly Expr[], context: EvalContext): Value {
  const args = argExprs.map((arg) => evaluate(arg, context));
  const builtin = BUILTIN_FUNCTIONS.get(name);
  if (builtin !== undefined) {
    if (args.length < builtin.minArgs || args.length > builtin.maxArgs) {
      throw new Error(`expression was not checked: '${name}' called with ${args.length} arguments`);
    }
    return builtin.call(args, context);
  }
  const custom = context.functions !== undefined && Object.hasOwn(context.functions, name) ? context.functions[name] : undefined;
  if (custom === undefined) throw new Error(`expression was not checked: function '${name}' is not available`);
  return custom(args) ?? null;
}
