import { describe, expect, it } from "vitest";
import * as api from "./index";
import { compileExpression, evaluate, isTruthy, parseTemplate, renderTemplate, stripConditionWrapper } from "./index";

describe("public API", () => {
  it("exports exactly the documented functions", () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        "DEFAULT_ROOTS",
        "checkExpression",
        "compileExpression",
        "evaluate",
        "findCalls",
        "hasExpressions",
        "isTruthy",
        "parseExpression",
        "parseTemplate",
        "referencedPaths",
        "renderTemplate",
        "stringify",
        "stripConditionWrapper",
        "usesStatusFunction",
      ].sort(),
    );
  });

  it("runs a pipeline condition end to end", () => {
    const condition = stripConditionWrapper("${{ success() && needs.unit-tests.result == 'success' && startsWith(ref, 'refs/tags/v') }}");
    const compiled = compileExpression(condition.source);
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
    const variables = { ref: "refs/tags/v1.0.0", needs: { "unit-tests": { result: "success" } } };
    expect(isTruthy(evaluate(compiled.expr, { variables }))).toBe(true);
    expect(isTruthy(evaluate(compiled.expr, { variables, status: { failed: true, cancelled: false } }))).toBe(false);
  });

  it("renders a template end to end", () => {
    const template = parseTemplate("image: app:${{ format('{0}-{1}', branch, sha) }}");
    if (!template.ok) throw new Error(JSON.stringify(template.errors));
    expect(renderTemplate(template.parts, { variables: { branch: "main", sha: "abc" } })).toBe("image: app:main-abc");
  });
});
