import { describe, expect, it } from "vitest";
import { parseExpression } from "./parser";
import { evaluate } from "./evaluate";
import { run, VARIABLES } from "./test-helpers";
import type { Expr } from "./ast";

function parsed(source: string): Expr {
  const result = parseExpression(source);
  if (!result.ok) throw new Error(result.error.message);
  return result.expr;
}

describe("evaluate: literals and names", () => {
  it("returns literal values", () => {
    expect(run("'it''s'")).toBe("it's");
    expect(run('"a\\tb"')).toBe("a\tb");
    expect(run("42")).toBe(42);
    expect(run("-1.5")).toBe(-1.5);
    expect(run("0xff")).toBe(255);
    expect(run("true")).toBe(true);
    expect(run("false")).toBe(false);
    expect(run("null")).toBe(null);
  });

  it("reads variables and nested properties", () => {
    expect(run("branch")).toBe("main");
    expect(run("matrix.node")).toBe(20);
    expect(run("needs.build.result")).toBe("success");
    expect(run("needs.unit-tests.result")).toBe("failure");
    expect(run("needs.build.outputs.version")).toBe("1.2.3");
    expect(run("inputs['deploy-env']")).toBe("prod");
    expect(run('inputs["deploy-env"]')).toBe("prod");
    expect(run("event['head-commit'].message")).toBe("fix: x");
    expect(run("matrix")).toEqual(VARIABLES["matrix"]);
  });

  it("indexes arrays by number or numeric string", () => {
    expect(run("matrix.tags[0]")).toBe("a");
    expect(run("matrix.tags[2]")).toBe("c");
    expect(run("matrix.tags['1']")).toBe("b");
    expect(run("event.commits[1].id")).toBe("c2");
  });

  it("uses computed indexes", () => {
    expect(run("inputs[format('deploy-{0}', 'env')]")).toBe("prod");
    expect(run("matrix.tags[inputs.count]")).toBe(null); // '3' is out of range
    expect(evaluate(parsed("matrix[k]"), { variables: { matrix: { os: "linux" }, k: "os" } })).toBe("linux");
  });

  it("gives null for anything missing, never throwing", () => {
    expect(run("needs.deploy.result")).toBe(null);
    expect(run("needs.build.result.deeper.still")).toBe(null);
    expect(run("matrix.include.x")).toBe(null);
    expect(run("matrix.tags[3]")).toBe(null);
    expect(run("matrix.tags[-1]")).toBe(null);
    expect(run("matrix.tags[0.5]")).toBe(null);
    expect(run("matrix.tags.length")).toBe(null);
    expect(run("matrix.tags['x']")).toBe(null);
    expect(run("matrix[true]")).toBe(null);
    expect(run("matrix[null]")).toBe(null);
    expect(run("branch.length")).toBe(null);
    expect(run("matrix.node.x")).toBe(null);
    expect(run("'abc'[0]")).toBe(null);
    expect(run("env.MISSING")).toBe(null);
    expect(evaluate(parsed("env.FOO"), { variables: {} })).toBe(null);
  });

  it("does not expose prototype properties", () => {
    expect(run("env.constructor")).toBe(null);
    expect(run("env['__proto__']")).toBe(null);
    expect(run("env.toString")).toBe(null);
    expect(run("matrix.tags.map")).toBe(null);
    expect(evaluate(parsed("constructor"), { variables: {} })).toBe(null);
    expect(evaluate(parsed("hasOwnProperty"), { variables: {} })).toBe(null);
  });
});

describe("evaluate: logical operators", () => {
  it("returns the deciding operand, like JavaScript", () => {
    expect(run("'' || 'fallback'")).toBe("fallback");
    expect(run("env.FOO || 'fallback'")).toBe("bar");
    expect(run("env.MISSING || 0")).toBe(0);
    expect(run("'a' && 'b'")).toBe("b");
    expect(run("0 && 'b'")).toBe(0);
    expect(run("null && x", {}, { roots: ["x"] })).toBe(null);
    expect(run("matrix.tags && matrix.tags[0]")).toBe("a");
  });

  it("short-circuits: the right side is not evaluated", () => {
    let calls = 0;
    const functions = {
      boom: () => {
        calls++;
        return true;
      },
    };
    expect(run("true || boom()", { functions }, { functions: ["boom"] })).toBe(true);
    expect(run("false && boom()", { functions }, { functions: ["boom"] })).toBe(false);
    expect(calls).toBe(0);
    expect(run("false || boom()", { functions }, { functions: ["boom"] })).toBe(true);
    expect(run("true && boom()", { functions }, { functions: ["boom"] })).toBe(true);
    expect(calls).toBe(2);
  });

  it("! returns a boolean", () => {
    expect(run("!''")).toBe(true);
    expect(run("!'x'")).toBe(false);
    expect(run("!null")).toBe(true);
    expect(run("!0")).toBe(true);
    expect(run("!!matrix.tags")).toBe(true);
    expect(run("!env.MISSING")).toBe(true);
  });

  it("combines conditions the way pipelines use them", () => {
    expect(run("branch == 'main' && needs.build.result == 'success'")).toBe(true);
    expect(run("branch == 'dev' || startsWith(ref, 'refs/heads/')")).toBe(true);
    expect(run("!(branch == 'main') || tag")).toBe(null);
  });
});

describe("evaluate: equality", () => {
  it("compares strings case-sensitively", () => {
    expect(run("'abc' == 'abc'")).toBe(true);
    expect(run("'abc' == 'ABC'")).toBe(false);
    expect(run("'abc' != 'ABC'")).toBe(true);
  });

  it("compares numbers numerically", () => {
    expect(run("1 == 1.0")).toBe(true);
    expect(run("0 == -0")).toBe(true);
    expect(run("0x10 == 16")).toBe(true);
    expect(run("1 != 2")).toBe(true);
  });

  it("coerces mixed types like GitHub Actions", () => {
    expect(run("'1' == 1")).toBe(true);
    expect(run("'1.0' == 1")).toBe(true);
    expect(run("' 2 ' == 2")).toBe(true);
    expect(run("'' == 0")).toBe(true);
    expect(run("'0x1f' == 31")).toBe(true);
    expect(run("null == 0")).toBe(true);
    expect(run("null == false")).toBe(true);
    expect(run("true == 1")).toBe(true);
    expect(run("false == 0")).toBe(true);
    expect(run("true == '1'")).toBe(true);
    expect(run("true == 'true'")).toBe(false); // 'true' → NaN
    expect(run("env.NUM == 42")).toBe(true);
    expect(run("inputs.flag == true")).toBe(true);
    expect(run("null == ''")).toBe(true);
  });

  it("null equals null, and a missing property equals null", () => {
    expect(run("null == null")).toBe(true);
    expect(run("env.MISSING == null")).toBe(true);
    expect(run("tag == null")).toBe(true);
  });

  it("never finds NaN equal", () => {
    expect(run("'abc' == 0")).toBe(false);
    expect(run("'abc' != 0")).toBe(true);
    expect(run("fromJSON('NaN') == fromJSON('NaN')")).toBe(true); // both null: invalid JSON
  });

  it("compares arrays and objects by identity only", () => {
    expect(run("matrix == matrix")).toBe(true);
    expect(run("matrix.tags == matrix.tags")).toBe(true);
    expect(run("fromJSON('[1]') == fromJSON('[1]')")).toBe(false);
    expect(run("matrix.tags == 'a,b,c'")).toBe(false);
    expect(run("matrix == 0")).toBe(false);
    expect(run("fromJSON('{}') != null")).toBe(true);
  });
});

describe("evaluate: relational comparison", () => {
  it("compares numbers", () => {
    expect(run("matrix.node >= 18")).toBe(true);
    expect(run("matrix.node < 18")).toBe(false);
    expect(run("-1 < 0")).toBe(true);
    expect(run("1.5 <= 1.5")).toBe(true);
    expect(run("2 > 10")).toBe(false);
  });

  it("compares two strings ordinally and case-sensitively", () => {
    expect(run("'a' < 'b'")).toBe(true);
    expect(run("'B' < 'a'")).toBe(true);
    expect(run("'10' < '9'")).toBe(true);
    expect(run("'abc' >= 'abc'")).toBe(true);
  });

  it("coerces mixed types to numbers", () => {
    expect(run("'10' > 9")).toBe(true);
    expect(run("env.NUM > 40")).toBe(true);
    expect(run("true > false")).toBe(true);
    expect(run("null < 1")).toBe(true);
  });

  it("is false when a side is NaN, an array or an object", () => {
    expect(run("'abc' < 1")).toBe(false);
    expect(run("'abc' >= 1")).toBe(false);
    expect(run("matrix.tags > 0")).toBe(false);
    expect(run("matrix < matrix")).toBe(false);
    expect(run("matrix <= matrix")).toBe(false);
  });
});

describe("evaluate: functions", () => {
  it("calls caller-supplied functions with evaluated arguments", () => {
    const seen: unknown[] = [];
    const hashFiles = (args: unknown[]) => {
      seen.push(args);
      return "deadbeef";
    };
    expect(run("hashFiles('**/package-lock.json', matrix.os)", { functions: { hashFiles } }, { functions: ["hashFiles"] })).toBe("deadbeef");
    expect(seen).toEqual([["**/package-lock.json", "linux"]]);
  });

  it("does not let caller functions override built-ins", () => {
    expect(run("success()", { functions: { success: () => false } })).toBe(true);
  });

  it("throws only for programmer errors: an unchecked unknown function", () => {
    expect(() => evaluate(parsed("nope()"), { variables: {} })).toThrow(/not available/);
    expect(() => evaluate(parsed("contains(1)"), { variables: {} })).toThrow(/not checked/);
    expect(() => evaluate(parsed("toString()"), { variables: {}, functions: {} })).toThrow(/not available/);
  });
});
