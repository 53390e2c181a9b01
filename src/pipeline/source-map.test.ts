// Field path → line and column in the YAML text, and syntax errors with their positions.
import { describe, expect, it } from "vitest";
import { YamlSource } from "./source-map";
import { source, where } from "./test-helpers";

const lines = [
  "name: ci", // 1
  "jobs:", // 2
  "  build:", // 3
  "    needs: [lint, test]", // 4
  "    env:", // 5
  "      A: 1", // 6
  "    steps:", // 7
  "      - run: make", // 8
  "      - name: second", // 9
  '        run: "echo hi"', // 10
];
const yaml = new YamlSource(source(lines));

describe("YamlSource.locate", () => {
  it("points at the value of a path", () => {
    expect(yaml.locate(["name"])).toEqual(where(lines, 1, "ci"));
    expect(yaml.locate(["jobs", "build", "env", "A"])).toEqual(where(lines, 6, "1"));
    expect(yaml.locate(["jobs", "build", "steps", 1, "run"])).toEqual(where(lines, 10, '"echo'));
  });

  it("points at sequence items, in flow and block style", () => {
    expect(yaml.locate(["jobs", "build", "needs", 1])).toEqual(where(lines, 4, "test"));
    expect(yaml.locate(["jobs", "build", "steps", 1])).toEqual(where(lines, 9, "name"));
  });

  it("points at the key when asked", () => {
    expect(yaml.locate(["jobs", "build", "env"], { keyOf: true })).toEqual(where(lines, 5, "env"));
  });

  it("points at the deepest existing node for a path that runs past the file", () => {
    expect(yaml.locate(["jobs", "build", "timeout"])).toEqual(where(lines, 4, "needs"));
    expect(yaml.locate(["jobs", "build", "steps", 5, "run"])).toEqual(where(lines, 8, "-"));
    expect(yaml.locate(["jobs", "deploy"])).toEqual(where(lines, 3, "build"));
  });

  it("points at the document start for the empty path", () => {
    expect(yaml.locate([])).toEqual({ line: 1, column: 1 });
  });

  it("moves inside a scalar by innerOffset, past the quote", () => {
    expect(yaml.locate(["jobs", "build", "steps", 1, "run"], { innerOffset: 0 })).toEqual(where(lines, 10, "echo"));
    expect(yaml.locate(["jobs", "build", "steps", 1, "run"], { innerOffset: 5 })).toEqual(where(lines, 10, "hi"));
  });

  it("follows aliases", () => {
    const aliased = ["jobs:", "  a:", "    steps: &s", "      - run: make", "  b:", "    steps: *s"];
    expect(new YamlSource(source(aliased)).locate(["jobs", "b", "steps", 0, "run"])).toEqual(where(aliased, 4, "make"));
  });

  it("returns source lines without their line break", () => {
    expect(yaml.sourceLine(4)).toBe("    needs: [lint, test]");
    expect(new YamlSource("a: 1\r\nb: 2\r\n").sourceLine(1)).toBe("a: 1");
    expect(yaml.sourceLine(99)).toBe("");
  });
});

describe("YamlSource.syntaxErrors", () => {
  it("is empty for valid YAML", () => {
    expect(yaml.syntaxErrors()).toEqual([]);
  });

  it("reports each error once with a one-line message and its position", () => {
    const text = source(["a: 1", "a: 2"]);
    const errors = new YamlSource(text).syntaxErrors();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.position).toEqual({ line: 2, column: 1 });
    expect(errors[0]!.message).not.toContain("\n");
  });

  it("reports an unclosed quote where the text ends", () => {
    const errors = new YamlSource('a: "open\n').syntaxErrors();
    expect(errors).toEqual([{ message: 'Missing closing "quote', position: { line: 2, column: 1 }, hint: "close the quote or bracket that was opened" }]);
  });
});

describe("innerOffset across scalar styles", () => {
  // Each document holds one value containing a single 'Q'; locating the Q's offset in the value must
  // land on the Q in the text, whatever quoting, escaping, folding or indentation came in between.
  const documents: Array<[string, string]> = [
    ["plain", "v: abc Q def\n"],
    ["plain, multi-line", "v: abc\n   def\n   Q\n"],
    ["plain, blank line", "v: abc\n\n   Q\n"],
    ["single-quoted with ''", "v: 'it''s a ''Q'''\n"],
    ["single-quoted, multi-line", "v: 'a\n   b Q'\n"],
    ["double-quoted with escapes", 'v: "\\t\\"x\\" \\\\ \\x41 \\u00e9 Q"\n'],
    ["double-quoted with an astral escape", 'v: "\\U0001F600 Q"\n'],
    ["double-quoted with an escaped line break", 'v: "abc \\\n   def Q"\n'],
    ["double-quoted, blank line", 'v: "abc\n\n   Q"\n'],
    ["literal", "v: |\n  one\n  two Q\n"],
    ["literal, keep, comment", "v: |+ # note\n  one\n\n  Q\n"],
    ["literal, more-indented lines", "v: |\n  one\n    two\n  Q\n"],
    ["literal with an indentation indicator", "v: |2\n    one\n  Q\n"],
    ["folded", "v: >\n  one\n  two\n\n  Q\n"],
    ["folded, strip", "v: >-\n  one\n    two\n  three Q\n"],
    ["CRLF literal", "v: |\r\n  one\r\n  Q\r\n"],
    ["an emoji written directly", "v: 😀 Q\n"],
  ];

  function landsOnQ(text: string, path: Array<string | number>): void {
    const yaml = new YamlSource(text);
    expect(yaml.syntaxErrors()).toEqual([]);
    let value: unknown = yaml.toJS();
    for (const segment of path) value = (value as Record<string | number, unknown>)[segment];
    const offset = String(value).indexOf("Q");
    expect(offset).toBeGreaterThanOrEqual(0);
    const { line, column } = yaml.locate(path, { innerOffset: offset });
    expect(yaml.sourceLine(line)[column - 1]).toBe("Q");
  }

  it.each(documents)("%s", (_, text) => landsOnQ(text, ["v"]));

  it("nested in a sequence", () => landsOnQ("a:\n  - b:\n      v: |\n        x\n        y Q\n", ["a", 0, "b", "v"]));
});
