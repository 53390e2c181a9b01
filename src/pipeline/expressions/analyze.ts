// Static questions about a syntax tree, for the planner: does a condition look at job status, which
// variables does it read, where does it call a given function.

import type { Expr } from "./ast";
import { walk } from "./ast";
import { STATUS_FUNCTIONS } from "./functions";

/** True when `success()`, `failure()`, `always()` or `cancelled()` appears anywhere. */
export function usesStatusFunction(expr: Expr): boolean {
  return walk(expr).some((node) => node.kind === "call" && STATUS_FUNCTIONS.includes(node.name));
}

/** Every call to `name`, in source order. */
export function findCalls(expr: Expr, name: string): Array<{ args: Expr[]; start: number; end: number }> {
  const calls: Array<{ args: Expr[]; start: number; end: number }> = [];
  for (const node of walk(expr)) {
    if (node.kind === "call" && node.name === name) calls.push({ args: [...node.args], start: node.start, end: node.end });
  }
  return calls;
}

/**
 * The static member paths read, in source order without duplicates: `needs.build.result` →
 * `['needs','build','result']`, `inputs['deploy-env']` → `['inputs','deploy-env']`. A path stops
 * before a computed index (`matrix[env.KEY].x` → `['matrix']` and `['env','KEY']`).
 */
export function referencedPaths(expr: Expr): string[][] {
  const paths: string[][] = [];
  const seen = new Set<string>();
  const add = (path: string[]): void => {
    const key = JSON.stringify(path);
    if (!seen.has(key)) {
      seen.add(key);
      paths.push(path);
    }
  };
  // Explicit stack, pre-order: a member/index chain is handled as a whole at its outermost node.
  const stack: Expr[] = [expr];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    const pending: Expr[] = [];
    if (node.kind === "name" || node.kind === "member" || node.kind === "index") {
      const path = staticPath(node, pending);
      if (path !== undefined) add(path);
    } else if (node.kind === "call") {
      pending.push(...node.args);
    } else if (node.kind === "not") {
      pending.push(node.operand);
    } else if (node.kind === "compare" || node.kind === "logical") {
      pending.push(node.left, node.right);
    }
    for (let i = pending.length - 1; i >= 0; i--) stack.push(pending[i] as Expr);
  }
  return paths;
}

/**
 * The longest static prefix of a member/index chain, or undefined when the chain does not start at a
 * name (e.g. `fromJSON(x).a`). Sub-expressions still to visit (computed indexes, a call at the root)
 * are appended to `pending` in source order.
 */
function staticPath(chain: Expr, pending: Expr[]): string[] | undefined {
  const links: Expr[] = [];
  let root: Expr = chain;
  while (root.kind === "member" || root.kind === "index") {
    links.unshift(root);
    root = root.object;
  }
  if (root.kind !== "name") pending.push(root);
  const path: string[] | undefined = root.kind === "name" ? [root.name] : undefined;
  let open = path !== undefined;
  for (const link of links) {
    if (link.kind === "member") {
      if (open) path?.push(link.property);
    } else if (link.kind === "index") {
      const index = link.index;
      const key = index.kind === "literal" && (typeof index.value === "string" || typeof index.value === "number") ? String(index.value) : undefined;
      if (open && key !== undefined) path?.push(key);
      else open = false;
      if (index.kind !== "literal") pending.push(index);
    }
  }
  return path;
}
