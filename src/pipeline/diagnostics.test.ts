// Field paths, ordering and the compiler-style report of diagnostics.
import { describe, expect, it } from "vitest";
import { formatDiagnostic, formatPath, sortDiagnostics, type Diagnostic, type DiagnosticStyle } from "./diagnostics";
import { parsePipeline } from "./parse";

describe("formatPath", () => {
  it("joins names with dots and indexes with brackets", () => {
    expect(formatPath(["jobs", "build", "steps", 0, "run"])).toBe("jobs.build.steps[0].run");
  });

  it("keeps dashes and underscores in names", () => {
    expect(formatPath(["jobs", "unit-tests", "continue-on-error"])).toBe("jobs.unit-tests.continue-on-error");
    expect(formatPath(["env", "_X"])).toBe("env._X");
  });

  it("quotes keys that are not names", () => {
    expect(formatPath(["jobs", "my job"])).toBe('jobs["my job"]');
    expect(formatPath(["env", "1X"])).toBe('env["1X"]');
    expect(formatPath(["a.b"])).toBe('["a.b"]');
  });

  it("is empty for the whole file and starts with an index for a top-level list", () => {
    expect(formatPath([])).toBe("");
    expect(formatPath([2, "x"])).toBe("[2].x");
  });
});

describe("sortDiagnostics", () => {
  const d = (file: string, line: number, column: number, message = "m"): Diagnostic => ({ file, line, column, path: "", message });

  it("orders by file, line, then column", () => {
    const sorted = sortDiagnostics([d("b.yml", 1, 1), d("a.yml", 9, 2), d("a.yml", 3, 7), d("a.yml", 3, 2)]);
    expect(sorted.map((x) => `${x.file}:${x.line}:${x.column}`)).toEqual(["a.yml:3:2", "a.yml:3:7", "a.yml:9:2", "b.yml:1:1"]);
  });

  it("drops exact duplicates but keeps different messages at one place", () => {
    const sorted = sortDiagnostics([d("a", 1, 1, "x"), d("a", 1, 1, "x"), d("a", 1, 1, "y")]);
    expect(sorted.map((x) => x.message)).toEqual(["x", "y"]);
  });

  it("keeps the original order of problems at the same position", () => {
    const sorted = sortDiagnostics([d("a", 2, 2, "second"), d("a", 1, 1, "first"), d("a", 2, 2, "third")]);
    expect(sorted.map((x) => x.message)).toEqual(["first", "second", "third"]);
  });
});

describe("formatDiagnostic", () => {
  const diagnostic: Diagnostic = { file: ".gust.yml", line: 3, column: 9, path: "jobs.build.neds", message: "unknown key 'neds'", hint: "did you mean 'needs'?" };

  it("prints location, message, field, source line with a caret, and hint", () => {
    const text = formatDiagnostic(diagnostic, (line) => (line === 3 ? "    neds: [x]" : undefined));
    expect(text.split("\n")).toEqual([
      ".gust.yml:3:9: error: unknown key 'neds'",
      "  at jobs.build.neds",
      "  3 |     neds: [x]",
      "    |         ^",
      "  hint: did you mean 'needs'?",
    ]);
  });

  it("puts the caret under the right character of the real source", () => {
    const text = "jobs:\n  build:\n    neds: [x]\n    steps: [{run: x}]\n";
    const result = parsePipeline(text, ".gust.yml");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const lines = formatDiagnostic(result.diagnostics[0]!, (line) => result.source.sourceLine(line)).split("\n");
    const sourceLine = lines[2]!;
    const caretLine = lines[3]!;
    expect(sourceLine.slice(caretLine.indexOf("^"), caretLine.indexOf("^") + 4)).toBe("neds");
  });

  it("leaves out what it does not have", () => {
    expect(formatDiagnostic({ file: "f", line: 1, column: 1, path: "", message: "the pipeline file is empty" })).toBe("f:1:1: error: the pipeline file is empty");
  });

  it("widens the gutter for long line numbers", () => {
    const text = formatDiagnostic({ ...diagnostic, line: 120, column: 1, hint: undefined }, () => "x");
    expect(text.split("\n").slice(2)).toEqual(["  120 | x", "      | ^"]);
  });

  it("applies the style", () => {
    const style: DiagnosticStyle = { error: (t) => `<e>${t}</e>`, dim: (t) => `<d>${t}</d>`, bold: (t) => `<b>${t}</b>` };
    const text = formatDiagnostic(diagnostic, undefined, style);
    expect(text.split("\n")[0]).toBe("<b>.gust.yml:3:9</b>: <e>error</e>: unknown key 'neds'");
    expect(text.split("\n")[1]).toBe("<d>  at jobs.build.neds</d>");
  });
});
