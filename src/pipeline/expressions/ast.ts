// The syntax tree produced by the parser. Every node carries `start`/`end` character offsets into the
// expression source (end exclusive). Plain data: safe to serialize and cache.

export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";
export type LogicalOp = "&&" | "||";

interface Span {
  start: number;
  end: number;
}

/** `'text'`, `"text"`, `42`, `-1.5`, `true`, `false`, `null`. */
export interface LiteralExpr extends Span {
  kind: "literal";
  value: string | number | boolean | null;
}

/** A root identifier such as `matrix` or `needs`. */
export interface NameExpr extends Span {
  kind: "name";
  name: string;
}

/** `object.property`; `propertyStart` is where the property name begins. */
export interface MemberExpr extends Span {
  kind: "member";
  object: Expr;
  property: string;
  propertyStart: number;
}

/** `object[index]`. */
export interface IndexExpr extends Span {
  kind: "index";
  object: Expr;
  index: Expr;
}

/** `name(args…)`; `nameEnd` is where the function name ends. */
export interface CallExpr extends Span {
  kind: "call";
  name: string;
  nameEnd: number;
  args: Expr[];
}

/** `!operand`. */
export interface NotExpr extends Span {
  kind: "not";
  operand: Expr;
}

export interface CompareExpr extends Span {
  kind: "compare";
  op: CompareOp;
  left: Expr;
  right: Expr;
}

export interface LogicalExpr extends Span {
  kind: "logical";
  op: LogicalOp;
  left: Expr;
  right: Expr;
}

export type Expr =
  | LiteralExpr
  | NameExpr
  | MemberExpr
  | IndexExpr
  | CallExpr
  | NotExpr
  | CompareExpr
  | LogicalExpr;

/** Direct children of a node, in source order. */
export function childrenOf(expr: Expr): Expr[] {
  switch (expr.kind) {
    case "literal":
    case "name":
      return [];
    case "member":
      return [expr.object];
    case "index":
      return [expr.object, expr.index];
    case "call":
      return expr.args;
    case "not":
      return [expr.operand];
    case "compare":
    case "logical":
      return [expr.left, expr.right];
  }
}

/** Every node of the tree in pre-order (source order), without recursion. */
export function walk(expr: Expr): Expr[] {
  const out: Expr[] = [];
  const stack: Expr[] = [expr];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    out.push(node);
    const children = childrenOf(node);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as Expr);
  }
  return out;
}

/** Depth of the tree (a single node is 1), computed without recursion. */
export function depthOf(expr: Expr): number {
  let max = 0;
  const stack: Array<[Expr, number]> = [[expr, 1]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, depth] = item;
    if (depth > max) max = depth;
    for (const child of childrenOf(node)) stack.push([child, depth + 1]);
  }
  return max;
}
