import { describe, expect, it } from "vitest";
import type { TemplatePart } from "./template";
import { findClose, hasExpressions, parseTemplate, renderTemplate, stripConditionWrapper } from "./template";
import { compileExpression } from "./check";
import { VARIABLES } from "./test-helpers";
import type { CheckOptions, EvalContext, ExpressionError } from "./types";

function parts(source: string, options?: CheckOptions): TemplatePart[] {
  const result = parseTemplate(source, options);
  if (!result.ok) throw new Error(`template failed: ${JSON.stringify(result.errors)}`);
  return result.parts;
}

function errors(source: string, options?: CheckOptions): ExpressionError[] {
  const result = parseTemplate(source, options);
  if (result.ok) throw new Error(`expected template errors for ${source}`);
  return result.errors;
}

function render(source: string, context: Partial<EvalContext> = {}): string {
  return renderTemplate(parts(source), { variables: VARIABLES, ...context });
}

/** Summaries of parts: text as is, expressions as `{source}`. */
function shape(source: string): string[] {
  return parts(source).map((p) => (p.kind === "text" ? p.text : `{${p.source}}`));
}

describe("parseTemplate", () => {
  it("returns plain text as a single part", () => {
    expect(parts("just text")).toEqual([{ kind: "text", text: "just text", start: 0 }]);
    expect(parts("")).toEqual([]);
    expect(parts("costs $5 {not} {{ this }}")).toHaveLength(1);
  });

  it("splits text and expressions, with offsets", () => {
    const source = "node-${{ matrix.node }}-on-${{matrix.os}}!";
    const result = parts(source);
    expect(result.map((p) => [p.kind, p.start])).toEqual([
      ["text", 0],
      ["expr", 9],
      ["text", 23],
      ["expr", 30],
      ["text", 41],
    ]);
    expect(shape(source)).toEqual(["node-", "{matrix.node}", "-on-", "{matrix.os}", "!"]);
    const expr = result[1];
    if (expr?.kind !== "expr") throw new Error("expected an expression part");
    expect(source.slice(expr.start, expr.start + expr.source.length)).toBe("matrix.node");
    expect(expr.expr).toMatchObject({ kind: "member", property: "node" });
  });

  it("handles adjacent expressions and expressions at both ends", () => {
    expect(shape("${{ branch }}${{ sha }}")).toEqual(["{branch}", "{sha}"]);
    expect(shape("${{ branch }}")).toEqual(["{branch}"]);
    expect(shape("${{ branch }} tail")).toEqual(["{branch}", " tail"]);
    expect(shape("head ${{ branch }}")).toEqual(["head ", "{branch}"]);
  });

  it("finds the right '}}' when a string literal contains braces", () => {
    expect(shape("${{ format('{0}}}', branch) }}")).toEqual(["{format('{0}}}', branch)}"]);
    expect(shape("a${{ 'x}}y' }}b")).toEqual(["a", "{'x}}y'}", "b"]);
    expect(shape('${{ "q\\"}}" }}')).toEqual(['{"q\\"}}"}']);
    expect(shape("${{ 'it''s }}' }}")).toEqual(["{'it''s }}'}"]);
    expect(shape("${{ branch }}}")).toEqual(["{branch}", "}"]);
  });

  it("reports an unclosed '${{' pointing at it", () => {
    expect(errors("echo ${{ branch")).toEqual([{ message: "unclosed '${{' — expected '}}'", offset: 5, length: 3 }]);
    expect(errors("${{ sha }} and ${{ ref ")).toEqual([{ message: "unclosed '${{' — expected '}}'", offset: 15, length: 3 }]);
    expect(errors("x ${{")[0]).toMatchObject({ offset: 2 });
  });

  it("reports an unterminated string inside an expression precisely", () => {
    const source = "echo ${{ 'abc }} done";
    expect(errors(source)).toEqual([{ message: "unterminated string starting here", offset: 9, length: 4, hint: "close it with '" }]);
  });

  it("reports an empty expression", () => {
    expect(errors("a ${{ }} b")).toEqual([{ message: "empty expression in '${{ }}'", offset: 2, length: 6 }]);
    expect(errors("${{}}")).toMatchObject([{ offset: 0, length: 5 }]);
  });

  it("reports syntax and check errors relative to the whole template", () => {
    const source = "deploy ${{ brnach }} to ${{ inputs['env' }}";
    const found = errors(source);
    expect(found).toEqual([
      { message: "unknown name 'brnach'", offset: 11, length: 6, hint: "did you mean 'branch'?" },
      { message: "missing ']' at end of expression", offset: 40, length: 0, hint: "the '[' at offset 6 is never closed" },
    ]);
    expect(source.slice(11, 17)).toBe("brnach");
    expect(source[40]).toBe(" ");
    expect(errors("x ${{ contains(a) }}", { roots: ["a"] })).toEqual([{ message: "'contains' takes 2 arguments, got 1", offset: 6, length: 11 }]);
  });

  it("passes check options to every expression", () => {
    expect(errors("${{ hashFiles('x') }}")[0]).toMatchObject({ message: "unknown function 'hashFiles'", offset: 4 });
    expect(parts("${{ hashFiles('x') }}", { functions: ["hashFiles"] })).toHaveLength(1);
    expect(parseTemplate("${{ steps.a }}", { roots: ["steps"] }).ok).toBe(true);
  });
});

describe("renderTemplate", () => {
  it("interpolates values with stringify", () => {
    expect(render("node-${{ matrix.node }}-${{ matrix.os }}")).toBe("node-20-linux");
    expect(render("[${{ tag }}]")).toBe("[]");
    expect(render("${{ inputs.flag }}/${{ !inputs.flag }}")).toBe("true/false");
    expect(render("tags=${{ matrix.tags }}")).toBe('tags=["a","b","c"]');
    expect(render("${{ join(matrix.tags, ' ') }}")).toBe("a b c");
    expect(render("${{ format('{0}}}', branch) }}")).toBe("main}");
    expect(render("${{ env.MISSING || 'default' }}")).toBe("default");
    expect(render("plain")).toBe("plain");
  });

  it("uses caller functions and status", () => {
    const template = parseTemplate("${{ hashFiles('a') }}-${{ failure() }}", { functions: ["hashFiles"] });
    if (!template.ok) throw new Error("template failed");
    expect(renderTemplate(template.parts, { variables: {}, functions: { hashFiles: () => "h" }, status: { failed: true, cancelled: false } })).toBe("h-true");
  });
});

describe("hasExpressions", () => {
  it("detects '${{'", () => {
    expect(hasExpressions("a ${{ b }}")).toBe(true);
    expect(hasExpressions("a ${{")).toBe(true);
    expect(hasExpressions("a $ {{ b }}")).toBe(false);
    expect(hasExpressions("plain")).toBe(false);
  });
});

describe("stripConditionWrapper", () => {
  it("removes a wrapper around the whole condition", () => {
    expect(stripConditionWrapper("${{ branch == 'main' }}")).toEqual({ source: "branch == 'main'", offset: 4 });
    expect(stripConditionWrapper("${{branch}}")).toEqual({ source: "branch", offset: 3 });
    expect(stripConditionWrapper("  ${{  a  }}  ")).toEqual({ source: "a", offset: 7 });
    expect(stripConditionWrapper("${{ format('{0}}}', x) }}")).toEqual({ source: "format('{0}}}', x)", offset: 4 });
  });

  it("leaves bare conditions unchanged", () => {
    expect(stripConditionWrapper("branch == 'main'")).toEqual({ source: "branch == 'main'", offset: 0 });
    expect(stripConditionWrapper("  a ")).toEqual({ source: "  a ", offset: 0 });
  });

  it("leaves partly wrapped conditions unchanged", () => {
    expect(stripConditionWrapper("${{ a }} && ${{ b }}")).toEqual({ source: "${{ a }} && ${{ b }}", offset: 0 });
    expect(stripConditionWrapper("${{ a }} x")).toEqual({ source: "${{ a }} x", offset: 0 });
    expect(stripConditionWrapper("${{ a")).toEqual({ source: "${{ a", offset: 0 });
  });

  it("gives an offset that maps errors back to the original source", () => {
    const original = "${{ brnach == 'main' }}";
    const stripped = stripConditionWrapper(original);
    const result = compileExpression(stripped.source);
    if (result.ok) throw new Error("expected an error");
    const error = result.errors[0];
    if (error === undefined) throw new Error("no error");
    expect(original.slice(error.offset + stripped.offset, error.offset + stripped.offset + error.length)).toBe("brnach");
  });

  it("makes a wrapped condition mean the same as a bare one", () => {
    const bare = compileExpression("branch == 'main'");
    const wrapped = compileExpression(stripConditionWrapper("${{ branch == 'main' }}").source);
    expect(wrapped).toEqual(bare);
  });
});

describe("findClose", () => {
  it("skips string literals", () => {
    expect(findClose("${{ '}}' }}", 0)).toBe(9);
    expect(findClose('${{ "\\\\" }}', 0)).toBe(9);
    expect(findClose("${{ a", 0)).toBeUndefined();
  });
});
