import { describe, expect, it } from "vitest";
import type { Expr } from "./ast";
import { MAX_DEPTH, parseExpression } from "./parser";
import type { ExpressionError } from "./types";

function parse(source: string): Expr {
  const result = parseExpression(source);
  if (!result.ok) throw new Error(`parse failed: ${result.error.message} at ${result.error.offset}`);
  return result.expr;
}

function parseError(source: string): ExpressionError {
  const result = parseExpression(source);
  if (result.ok) throw new Error(`expected a parse error for ${source}`);
  return result.error;
}

/** Compact rendering of a tree, to assert its shape and precedence. */
function show(expr: Expr): string {
  switch (expr.kind) {
    case "literal":
      return JSON.stringify(expr.value);
    case "name":
      return expr.name;
    case "member":
      return `${show(expr.object)}.${expr.property}`;
    case "index":
      return `${show(expr.object)}[${show(expr.index)}]`;
    case "call":
      return `${expr.name}(${expr.args.map(show).join(", ")})`;
    case "not":
      return `!${show(expr.operand)}`;
    case "compare":
    case "logical":
      return `(${show(expr.left)} ${expr.op} ${show(expr.right)})`;
  }
}

const s = (source: string) => show(parse(source));

describe("parseExpression: constructs", () => {
  it("parses literals", () => {
    expect(parse("'x'")).toEqual({ kind: "literal", value: "x", start: 0, end: 3 });
    expect(parse('"x"')).toEqual({ kind: "literal", value: "x", start: 0, end: 3 });
    expect(parse("42")).toEqual({ kind: "literal", value: 42, start: 0, end: 2 });
    expect(parse("1.5")).toMatchObject({ kind: "literal", value: 1.5 });
    expect(parse("true")).toEqual({ kind: "literal", value: true, start: 0, end: 4 });
    expect(parse("false")).toMatchObject({ kind: "literal", value: false });
    expect(parse("null")).toMatchObject({ kind: "literal", value: null });
  });

  it("parses negative numbers via unary minus", () => {
    expect(parse("-1")).toEqual({ kind: "literal", value: -1, start: 0, end: 2 });
    expect(parse("- 2.5")).toEqual({ kind: "literal", value: -2.5, start: 0, end: 5 });
    expect(s("x > -1")).toBe("(x > -1)");
    expect(s("!-1")).toBe("!-1");
  });

  it("parses names and dotted property access", () => {
    expect(parse("branch")).toEqual({ kind: "name", name: "branch", start: 0, end: 6 });
    expect(parse("matrix.node")).toEqual({
      kind: "member",
      object: { kind: "name", name: "matrix", start: 0, end: 6 },
      property: "node",
      propertyStart: 7,
      start: 0,
      end: 11,
    });
    expect(s("needs.unit-tests.result")).toBe("needs.unit-tests.result");
    expect(s("needs.build.outputs.version")).toBe("needs.build.outputs.version");
  });

  it("accepts keywords as property names", () => {
    expect(s("inputs.true")).toBe("inputs.true");
    expect(s("inputs.null.x")).toBe("inputs.null.x");
  });

  it("parses index access", () => {
    expect(s("inputs['deploy-env']")).toBe('inputs["deploy-env"]');
    expect(parse("inputs['deploy-env']")).toMatchObject({ kind: "index", start: 0, end: 20 });
    expect(s("matrix[env.KEY].x")).toBe("matrix[env.KEY].x");
    expect(s("a[0][1]")).toBe("a[0][1]");
    expect(s("a[ 'b' ].c['d']")).toBe('a["b"].c["d"]');
  });

  it("parses calls with zero, one and many arguments", () => {
    expect(parse("success()")).toEqual({ kind: "call", name: "success", nameEnd: 7, args: [], start: 0, end: 9 });
    expect(s("contains(matrix.os, 'linux')")).toBe('contains(matrix.os, "linux")');
    expect(s("format('{0}-{1}', a, b)")).toBe('format("{0}-{1}", a, b)');
    expect(s("fromJSON(x).a[0]")).toBe("fromJSON(x).a[0]");
    expect(s("f(g(h()))")).toBe("f(g(h()))");
    expect(parse("  f( a )  ")).toMatchObject({ start: 2, end: 8 });
  });

  it("parses parentheses without adding a node", () => {
    expect(s("(a)")).toBe("a");
    expect(s("((a || b)) && c")).toBe("((a || b) && c)");
    expect(s("(fromJSON(x)).y")).toBe("fromJSON(x).y");
  });

  it("parses multi-line expressions", () => {
    expect(s("a &&\n  b ||\r\n\tc")).toBe("((a && b) || c)");
  });
});

describe("parseExpression: precedence and associativity", () => {
  it("|| is looser than &&", () => {
    expect(s("a || b && c")).toBe("(a || (b && c))");
    expect(s("a && b || c")).toBe("((a && b) || c)");
  });

  it("&& is looser than equality", () => {
    expect(s("a == b && c != d")).toBe("((a == b) && (c != d))");
  });

  it("equality is looser than relational", () => {
    expect(s("a < b == c >= d")).toBe("((a < b) == (c >= d))");
  });

  it("relational is looser than !", () => {
    expect(s("!a < b")).toBe("(!a < b)");
    expect(s("!a == b")).toBe("(!a == b)");
    expect(s("!!a")).toBe("!!a");
  });

  it("! binds looser than property access and calls", () => {
    expect(s("!a.b")).toBe("!a.b");
    expect(s("!contains(a, b)")).toBe('!contains(a, b)');
  });

  it("binary operators are left-associative", () => {
    expect(s("a || b || c")).toBe("((a || b) || c)");
    expect(s("a && b && c")).toBe("((a && b) && c)");
    expect(s("a == b == c")).toBe("((a == b) == c)");
    expect(s("a < b < c")).toBe("((a < b) < c)");
  });

  it("parentheses override precedence", () => {
    expect(s("(a || b) && c")).toBe("((a || b) && c)");
    expect(s("!(a == b)")).toBe("!(a == b)");
  });

  it("spans cover the whole operation", () => {
    expect(parse("a == 'b' || c")).toMatchObject({ start: 0, end: 13, left: { start: 0, end: 8 }, right: { start: 12, end: 13 } });
    expect(parse("!x")).toMatchObject({ start: 0, end: 2 });
  });
});

describe("parseExpression: errors", () => {
  it("reports an unexpected token where an expression is expected", () => {
    expect(parseError("a == )")).toEqual({ message: "unexpected ')' — expected an expression", offset: 5, length: 1 });
    expect(parseError(")")).toMatchObject({ message: "unexpected ')' — expected an expression", offset: 0 });
    expect(parseError("a && || b")).toMatchObject({ message: "unexpected '||' — expected an expression", offset: 5, length: 2 });
    expect(parseError("f(a,)")).toMatchObject({ message: "unexpected ')' — expected an expression", offset: 4 });
    expect(parseError("f(,a)")).toMatchObject({ message: "unexpected ',' — expected an expression", offset: 2 });
  });

  it("reports an expression cut short at the end", () => {
    expect(parseError("a ==")).toEqual({ message: "unexpected end of expression — expected an expression", offset: 4, length: 0 });
    expect(parseError("a && ")).toMatchObject({ offset: 5 });
    expect(parseError("!")).toMatchObject({ offset: 1 });
  });

  it("reports an empty expression", () => {
    expect(parseError("")).toEqual({ message: "empty expression", offset: 0, length: 0 });
    expect(parseError("   ")).toEqual({ message: "empty expression", offset: 0, length: 3 });
  });

  it("reports a missing ')' where it should be", () => {
    expect(parseError("(a == b")).toEqual({
      message: "missing ')' at end of expression",
      offset: 7,
      length: 0,
      hint: "the '(' at offset 0 is never closed",
    });
    expect(parseError("(a == b c")).toEqual({
      message: "unexpected name 'c' — expected ')'",
      offset: 8,
      length: 1,
      hint: "to close the '(' at offset 0",
    });
    expect(parseError("contains(a, b")).toMatchObject({
      message: "missing ')' at end of expression",
      offset: 13,
      hint: "the call to 'contains' at offset 8 is never closed",
    });
    expect(parseError("contains(a b)")).toMatchObject({ message: "unexpected name 'b' — expected ',' or ')'", offset: 11 });
  });

  it("reports a missing ']'", () => {
    expect(parseError("a['b'")).toMatchObject({ message: "missing ']' at end of expression", offset: 5, hint: "the '[' at offset 1 is never closed" });
    expect(parseError("a['b' c]")).toMatchObject({ message: "unexpected name 'c' — expected ']'", offset: 6, hint: "to close the '[' at offset 1" });
    expect(parseError("a['b' == c")).toMatchObject({ message: "missing ']' at end of expression", offset: 10 });
    expect(parseError("a[]")).toMatchObject({ message: "unexpected ']' — expected an expression", offset: 2 });
  });

  it("reports a missing property name after '.'", () => {
    expect(parseError("a.")).toMatchObject({ message: "unexpected end of expression — expected a property name after '.'", offset: 2 });
    expect(parseError("a.'b'")).toMatchObject({ message: "unexpected string 'b' — expected a property name after '.'", offset: 2, length: 3 });
    expect(parseError("a..b")).toMatchObject({ offset: 2 });
    expect(parseError("a.1")).toMatchObject({ message: "unexpected number 1 — expected a property name after '.'", offset: 2 });
  });

  it("reports tokens left over after a complete expression", () => {
    expect(parseError("a b")).toEqual({
      message: "unexpected name 'b' — expected an operator or end of expression",
      offset: 2,
      length: 1,
      hint: "use '&&' or '||' to combine conditions",
    });
    expect(parseError("a and b")).toMatchObject({ offset: 2, length: 3, hint: "use '&&'" });
    expect(parseError("a or b")).toMatchObject({ offset: 2, hint: "use '||'" });
    expect(parseError("(a))")).toMatchObject({ message: "unexpected ')' — expected an operator or end of expression", offset: 3 });
    expect(parseError("a.b(1)")).toMatchObject({ message: "unexpected '(' — expected an operator or end of expression", offset: 3 });
    expect(parseError("true()")).toMatchObject({ offset: 4 });
    expect(parseError("'a' 'b'")).toMatchObject({ message: "unexpected string 'b' — expected an operator or end of expression", offset: 4 });
  });

  it("rejects arithmetic minus", () => {
    expect(parseError("a - b")).toMatchObject({ message: "unexpected '-' — expected an operator or end of expression", offset: 2, hint: "arithmetic is not supported" });
    expect(parseError("1 -1")).toMatchObject({ offset: 2 });
    expect(parseError("-a")).toMatchObject({ message: "unexpected '-' — expected an expression", offset: 0, length: 1 });
    expect(parseError("--1")).toMatchObject({ offset: 0 });
  });

  it("passes lexer errors through with their offsets", () => {
    expect(parseError("a == 'oops")).toMatchObject({ message: "unterminated string starting here", offset: 5 });
    expect(parseError("a = 'b'")).toMatchObject({ offset: 2, hint: "did you mean '=='?" });
  });

  it("rejects absurd nesting instead of overflowing the stack", () => {
    const deep = `${"(".repeat(5000)}a${")".repeat(5000)}`;
    expect(parseError(deep).message).toMatch(/nested too deeply/);
    expect(parseError(`${"!".repeat(5000)}a`).message).toMatch(/nested too deeply/);
    expect(parseError(Array.from({ length: 5000 }, () => "a").join(" || ")).message).toMatch(/nested too deeply/);
    expect(parseExpression(`${"(".repeat(MAX_DEPTH - 1)}a${")".repeat(MAX_DEPTH - 1)}`).ok).toBe(true);
  });
});
