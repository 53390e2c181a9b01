import { describe, expect, it } from "vitest";
import { checkExpression, compileExpression, DEFAULT_ROOTS } from "./check";
import { parseExpression } from "./parser";
import type { CheckOptions, ExpressionError } from "./types";

function errorsOf(source: string, options?: CheckOptions): ExpressionError[] {
  const result = compileExpression(source, options);
  return result.ok ? [] : result.errors;
}

/** The source text an error points at. */
function pointed(source: string, error: ExpressionError | undefined): string {
  if (error === undefined) throw new Error("no error");
  return source.slice(error.offset, error.offset + error.length);
}

describe("checkExpression: names", () => {
  it("accepts the default roots", () => {
    expect(DEFAULT_ROOTS).toEqual(["event", "ref", "branch", "tag", "sha", "inputs", "env", "matrix", "needs"]);
    for (const root of DEFAULT_ROOTS) expect(errorsOf(`${root}.x`)).toEqual([]);
  });

  it("reports an unknown root with the closest name", () => {
    const source = "brnach == 'main'";
    const errors = errorsOf(source);
    expect(errors).toEqual([{ message: "unknown name 'brnach'", offset: 0, length: 6, hint: "did you mean 'branch'?" }]);
    expect(pointed(source, errors[0])).toBe("brnach");
  });

  it("points at the root of a member chain, not the whole chain", () => {
    const source = "success() && nedds.build.result == 'success'";
    const errors = errorsOf(source);
    expect(errors).toMatchObject([{ message: "unknown name 'nedds'", offset: 13, length: 5, hint: "did you mean 'needs'?" }]);
    expect(pointed(source, errors[0])).toBe("nedds");
  });

  it("suggests by prefix and by case", () => {
    expect(errorsOf("inp.x")[0]?.hint).toBe("did you mean 'inputs'?");
    expect(errorsOf("Matrix.os")[0]?.hint).toBe("did you mean 'matrix'?");
    expect(errorsOf("ENV.FOO")[0]?.hint).toBe("did you mean 'env'?");
  });

  it("lists the available names when nothing is close", () => {
    expect(errorsOf("github.ref")[0]).toEqual({
      message: "unknown name 'github'",
      offset: 0,
      length: 6,
      hint: "available names: 'event', 'ref', 'branch', 'tag', 'sha', 'inputs', 'env', 'matrix', 'needs'",
    });
  });

  it("points out a function used without parentheses", () => {
    expect(errorsOf("success")[0]).toEqual({
      message: "unknown name 'success'",
      offset: 0,
      length: 7,
      hint: "'success' is a function — did you mean 'success()'?",
    });
  });

  it("uses the caller's roots instead of the defaults", () => {
    expect(errorsOf("steps.x.outcome", { roots: ["steps"] })).toEqual([]);
    expect(errorsOf("matrix.os", { roots: ["steps"] })).toMatchObject([{ message: "unknown name 'matrix'" }]);
    expect(errorsOf("stesp.x", { roots: ["steps"] })[0]?.hint).toBe("did you mean 'steps'?");
    expect(errorsOf("x", { roots: [] })[0]).toEqual({ message: "unknown name 'x'", offset: 0, length: 1 });
  });

  it("checks names inside indexes, calls and every operand", () => {
    const source = "matrix[foo] == contains(bar, 'x') || !baz";
    const errors = errorsOf(source);
    expect(errors.map((e) => pointed(source, e))).toEqual(["foo", "bar", "baz"]);
  });

  it("does not check property names", () => {
    expect(errorsOf("needs.anything.at-all['x'].y")).toEqual([]);
  });
});

describe("checkExpression: functions", () => {
  it("reports an unknown function with the closest name", () => {
    const source = "startswith(ref, 'refs/tags/')";
    const errors = errorsOf(source);
    expect(errors).toEqual([{ message: "unknown function 'startswith'", offset: 0, length: 10, hint: "did you mean 'startsWith'?" }]);
    expect(errorsOf("contain(a, b)", { roots: ["a", "b"] })[0]?.hint).toBe("did you mean 'contains'?");
    expect(errorsOf("tojson(env)")[0]?.hint).toBe("did you mean 'toJSON'?");
    expect(errorsOf("sucess()")[0]?.hint).toBe("did you mean 'success'?");
    expect(errorsOf("fail()")[0]?.hint).toBe("did you mean 'failure'?");
  });

  it("says when a value is called like a function", () => {
    expect(errorsOf("branch()")[0]).toMatchObject({ message: "unknown function 'branch'", hint: "'branch' is a value, not a function — remove the '()'" });
  });

  it("lists the available functions when nothing is close", () => {
    expect(errorsOf("xyzzy()")[0]?.hint).toMatch(/^available functions: 'success', 'failure'/);
  });

  it("allows extra functions only where the caller allows them", () => {
    const source = "hashFiles('**/package-lock.json') != ''";
    expect(errorsOf(source)).toMatchObject([{ message: "unknown function 'hashFiles'", offset: 0, length: 9 }]);
    expect(errorsOf(source, { functions: ["hashFiles"] })).toEqual([]);
    expect(errorsOf("hashfiles('x')", { functions: ["hashFiles"] })[0]?.hint).toBe("did you mean 'hashFiles'?");
    expect(errorsOf("hashFiles()", { functions: ["hashFiles"] })).toEqual([]); // any arity for caller functions
  });

  it("reports wrong argument counts, pointing at the call", () => {
    const source = "branch == 'x' || contains(branch)";
    const errors = errorsOf(source);
    expect(errors).toEqual([{ message: "'contains' takes 2 arguments, got 1", offset: 17, length: 16 }]);
    expect(pointed(source, errors[0])).toBe("contains(branch)");
    expect(errorsOf("success(1)")[0]?.message).toBe("'success' takes no arguments, got 1");
    expect(errorsOf("always(1, 2)")[0]?.message).toBe("'always' takes no arguments, got 2");
    expect(errorsOf("toJSON()")[0]?.message).toBe("'toJSON' takes 1 argument, got 0");
    expect(errorsOf("fromJSON(1, 2)")[0]?.message).toBe("'fromJSON' takes 1 argument, got 2");
    expect(errorsOf("join()")[0]?.message).toBe("'join' takes 1 or 2 arguments, got 0");
    expect(errorsOf("join(1, 2, 3)")[0]?.message).toBe("'join' takes 1 or 2 arguments, got 3");
    expect(errorsOf("format()")[0]?.message).toBe("'format' takes at least 1 argument, got 0");
    expect(errorsOf("startsWith('a')")[0]?.message).toBe("'startsWith' takes 2 arguments, got 1");
    expect(errorsOf("endsWith('a', 'b', 'c')")[0]?.message).toBe("'endsWith' takes 2 arguments, got 3");
  });

  it("accepts every built-in with the right arity", () => {
    const source =
      "success() && failure() || always() && cancelled() || contains('a', 'b') && startsWith('a', 'b') && endsWith('a', 'b') && format('{0}', 1) && join(fromJSON('[]')) && join('a', 'b') && toJSON(1)";
    expect(errorsOf(source)).toEqual([]);
  });

  it("checks literal format strings", () => {
    const source = "format('{0}-{1}', branch)";
    const errors = errorsOf(source);
    expect(errors).toEqual([{ message: "format string uses {1} but only 1 argument follows the format string", offset: 7, length: 9 }]);
    expect(pointed(source, errors[0])).toBe("'{0}-{1}'");
    expect(errorsOf("format('{0}')")[0]?.message).toBe("format string uses {0} but no arguments follow the format string");
    expect(errorsOf("format('{2}{2}', 1, 2)")).toHaveLength(1);
    expect(errorsOf("format('a { b', 1)")[0]).toMatchObject({
      message: "invalid format string: '{' at position 2 must be a placeholder like {0} or escaped as '{{'",
      offset: 7,
    });
    expect(errorsOf("format('a } b')")[0]?.message).toBe("invalid format string: '}' at position 2 must be escaped as '}}'");
    expect(errorsOf("format('{{0}}')")).toEqual([]);
    expect(errorsOf("format(env.FMT, 1)")).toEqual([]); // computed: not checked
  });
});

describe("checkExpression: reporting", () => {
  it("reports every problem, in source order", () => {
    const source = "contains(brnach) && foo(1) || nedds.x == startsWith('a')";
    const errors = errorsOf(source);
    expect(errors.map((e) => e.message)).toEqual([
      "'contains' takes 2 arguments, got 1",
      "unknown name 'brnach'",
      "unknown function 'foo'",
      "unknown name 'nedds'",
      "'startsWith' takes 2 arguments, got 1",
    ]);
    expect(errors.map((e) => e.offset)).toEqual([0, 9, 20, 30, 41]);
  });

  it("works on a parsed tree directly", () => {
    const parsed = parseExpression("x == 1");
    if (!parsed.ok) throw new Error("parse failed");
    expect(checkExpression(parsed.expr)).toHaveLength(1);
    expect(checkExpression(parsed.expr, { roots: ["x"] })).toEqual([]);
  });
});

describe("compileExpression", () => {
  it("returns the tree when parsing and checking succeed", () => {
    const result = compileExpression("branch == 'main'");
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.expr.kind).toBe("compare");
  });

  it("returns the syntax error alone when parsing fails", () => {
    expect(compileExpression("brnach == ")).toEqual({
      ok: false,
      errors: [{ message: "unexpected end of expression — expected an expression", offset: 10, length: 0 }],
    });
  });
});
