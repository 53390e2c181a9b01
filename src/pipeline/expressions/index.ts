// The expression language of pipeline files: `if:` conditions and `${{ }}` interpolation.
// Pure and safe: a hand-written lexer, parser and tree-walking evaluator; nothing is ever `eval`ed.

export type { Value, ExpressionError, CheckOptions, EvalContext } from "./types";
export type { Expr } from "./ast";
export { parseExpression } from "./parser";
export { checkExpression, compileExpression, DEFAULT_ROOTS } from "./check";
export { evaluate } from "./evaluate";
export { isTruthy, stringify } from "./values";
export { usesStatusFunction, referencedPaths, findCalls } from "./analyze";
export type { TemplatePart } from "./template";
export { parseTemplate, renderTemplate, hasExpressions, stripConditionWrapper } from "./template";
