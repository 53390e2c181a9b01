import { describe, expect, it } from "vitest";
import type { Expr } from "./ast";
import { findCalls, referencedPaths, usesStatusFunction } from "./analyze";
import { parseExpression } from "./parser";

function parse(source: string): Expr {
  const result = parseExpression(source);
  if (!result.ok) throw new Error(result.error.message);
  return result.expr;
}

describe("usesStatusFunction", () => {
  it("detects each status function anywhere in the tree", () => {
    expect(usesStatusFunction(parse("success()"))).toBe(true);
    expect(usesStatusFunction(parse("failure()"))).toBe(true);
    expect(usesStatusFunction(parse("always()"))).toBe(true);
    expect(usesStatusFunction(parse("cancelled()"))).toBe(true);
    expect(usesStatusFunction(parse("branch == 'main' && !cancelled()"))).toBe(true);
    expect(usesStatusFunction(parse("contains(format('{0}', failure()), 'x')"))).toBe(true);
    expect(usesStatusFunction(parse("matrix[always()]"))).toBe(true);
  });

  it("is false without a status call", () => {
    expect(usesStatusFunction(parse("branch == 'main'"))).toBe(false);
    expect(usesStatusFunction(parse("needs.success.result"))).toBe(false);
    expect(usesStatusFunction(parse("'success()'"))).toBe(false);
    expect(usesStatusFunction(parse("contains(a, b)"))).toBe(false);
  });
});

describe("referencedPaths", () => {
  it("lists static member paths", () => {
    expect(referencedPaths(parse("needs.build.result == 'success' && matrix.node >= 18"))).toEqual([
      ["needs", "build", "result"],
      ["matrix", "node"],
    ]);
    expect(referencedPaths(parse("branch"))).toEqual([["branch"]]);
    expect(referencedPaths(parse("needs.unit-tests.result"))).toEqual([["needs", "unit-tests", "result"]]);
  });

  it("includes literal indexes in the path", () => {
    expect(referencedPaths(parse("inputs['deploy-env']"))).toEqual([["inputs", "deploy-env"]]);
    expect(referencedPaths(parse("event.commits[0].id"))).toEqual([["event", "commits", "0", "id"]]);
  });

  it("stops at a dynamic index and also lists the paths inside it", () => {
    expect(referencedPaths(parse("matrix[env.KEY].x"))).toEqual([["matrix"], ["env", "KEY"]]);
    expect(referencedPaths(parse("a.b[c.d].e['f']"))).toEqual([["a", "b"], ["c", "d"]]);
    expect(referencedPaths(parse("a[true].b"))).toEqual([["a"]]);
  });

  it("looks inside calls, operators and chains rooted at calls", () => {
    expect(referencedPaths(parse("contains(needs.a, 'x')"))).toEqual([["needs", "a"]]);
    expect(referencedPaths(parse("!(fromJSON(inputs.json).x == env.Y) || sha"))).toEqual([
      ["inputs", "json"],
      ["env", "Y"],
      ["sha"],
    ]);
  });

  it("lists each path once, in source order", () => {
    expect(referencedPaths(parse("matrix.os == 'a' || matrix.os == 'b' || branch"))).toEqual([["matrix", "os"], ["branch"]]);
  });

  it("is empty for literals and status calls", () => {
    expect(referencedPaths(parse("'x' == 1"))).toEqual([]);
    expect(referencedPaths(parse("success()"))).toEqual([]);
  });
});

describe("findCalls", () => {
  it("finds every call to a name with arguments and span, in source order", () => {
    const source = "hashFiles('a') != hashFiles('b', 'c') && contains(hashFiles('d'), 'x')";
    const calls = findCalls(parse(source), "hashFiles");
    expect(calls.map((c) => source.slice(c.start, c.end))).toEqual(["hashFiles('a')", "hashFiles('b', 'c')", "hashFiles('d')"]);
    expect(calls[1]?.args).toMatchObject([
      { kind: "literal", value: "b" },
      { kind: "literal", value: "c" },
    ]);
  });

  it("matches names exactly", () => {
    expect(findCalls(parse("hashfiles('a')"), "hashFiles")).toEqual([]);
    expect(findCalls(parse("hashFiles"), "hashFiles")).toEqual([]);
    expect(findCalls(parse("success()"), "success")).toEqual([{ args: [], start: 0, end: 9 }]);
  });
});
