import { describe, expect, it } from "vitest";
import { formatString, parseFormat } from "./format";
import { run } from "./test-helpers";

describe("status functions", () => {
  const status = (failed: boolean, cancelled: boolean) => ({ status: { failed, cancelled } });

  it("success() is true only when nothing failed or was cancelled", () => {
    expect(run("success()", status(false, false))).toBe(true);
    expect(run("success()", status(true, false))).toBe(false);
    expect(run("success()", status(false, true))).toBe(false);
  });

  it("failure() and cancelled() read the status", () => {
    expect(run("failure()", status(true, false))).toBe(true);
    expect(run("failure()", status(false, true))).toBe(false);
    expect(run("cancelled()", status(false, true))).toBe(true);
    expect(run("cancelled()", status(true, false))).toBe(false);
  });

  it("always() is always true", () => {
    expect(run("always()", status(true, true))).toBe(true);
    expect(run("always()")).toBe(true);
  });

  it("defaults to a clean status", () => {
    expect(run("success()")).toBe(true);
    expect(run("failure()")).toBe(false);
    expect(run("cancelled()")).toBe(false);
  });

  it("combines with other conditions", () => {
    expect(run("failure() && branch == 'main'", status(true, false))).toBe(true);
    expect(run("!cancelled() && needs.build.result == 'success'", status(true, false))).toBe(true);
  });
});

describe("contains", () => {
  it("finds a substring, case-sensitively", () => {
    expect(run("contains('hello world', 'lo w')")).toBe(true);
    expect(run("contains('hello', 'HELLO')")).toBe(false);
    expect(run("contains('hello', '')")).toBe(true);
    expect(run("contains(ref, 'heads')")).toBe(true);
  });

  it("converts primitives to strings", () => {
    expect(run("contains(12345, 23)")).toBe(true);
    expect(run("contains('is true', true)")).toBe(true);
    expect(run("contains(null, '')")).toBe(true);
    expect(run("contains(null, 'x')")).toBe(false);
  });

  it("finds an element of an array with == semantics", () => {
    expect(run("contains(matrix.tags, 'b')")).toBe(true);
    expect(run("contains(matrix.tags, 'B')")).toBe(false);
    expect(run("contains(matrix.tags, 'a,b')")).toBe(false);
    expect(run("contains(fromJSON('[1, 2, 3]'), '2')")).toBe(true);
    expect(run("contains(fromJSON('[null]'), 0)")).toBe(true);
    expect(run("contains(fromJSON('[]'), '')")).toBe(false);
  });

  it("is false for objects and for searching an object inside a string", () => {
    expect(run("contains(matrix, 'os')")).toBe(false);
    expect(run("contains('a,b,c', matrix.tags)")).toBe(false);
  });
});

describe("startsWith and endsWith", () => {
  it("test prefixes and suffixes case-sensitively", () => {
    expect(run("startsWith(ref, 'refs/heads/')")).toBe(true);
    expect(run("startsWith(ref, 'Refs/')")).toBe(false);
    expect(run("endsWith(ref, '/main')")).toBe(true);
    expect(run("endsWith(ref, '/MAIN')")).toBe(false);
    expect(run("startsWith('abc', '')")).toBe(true);
    expect(run("endsWith('', '')")).toBe(true);
  });

  it("convert primitives to strings and are false for arrays and objects", () => {
    expect(run("startsWith(123, 12)")).toBe(true);
    expect(run("endsWith(true, 'ue')")).toBe(true);
    expect(run("startsWith(null, '')")).toBe(true);
    expect(run("startsWith(matrix.tags, 'a')")).toBe(false);
    expect(run("endsWith('x', matrix)")).toBe(false);
  });
});

describe("format", () => {
  it("substitutes placeholders in any order, repeatedly", () => {
    expect(run("format('{0}-{1}', 'a', 'b')")).toBe("a-b");
    expect(run("format('{1}{0}{1}', 'a', 'b')")).toBe("bab");
    expect(run("format('node-{0}-{1}', matrix.node, matrix.os)")).toBe("node-20-linux");
    expect(run("format('no placeholders')")).toBe("no placeholders");
  });

  it("turns '{{' and '}}' into literal braces", () => {
    expect(run("format('{{0}} is {0}', 'x')")).toBe("{0} is x");
    expect(run("format('{0}}}', 'x')")).toBe("x}");
    expect(run("format('{{{0}}}', 'x')")).toBe("{x}");
  });

  it("stringifies arguments", () => {
    expect(run("format('{0}|{1}|{2}|{3}', null, true, 1.5, matrix.tags)")).toBe('|true|1.5|["a","b","c"]');
  });

  it("is lenient at run time with a computed format string", () => {
    expect(run("format(env.FOO)")).toBe("bar");
    expect(formatString("{0} {1} } {", ["a"])).toBe("a {1} } {");
    expect(formatString("{x}", [])).toBe("{x}");
  });

  it("parses format strings strictly for checking", () => {
    expect(parseFormat("a{0}b{{c}}")).toEqual({
      ok: true,
      pieces: [
        { kind: "text", text: "a" },
        { kind: "arg", index: 0, at: 1 },
        { kind: "text", text: "b{c}" },
      ],
    });
    expect(parseFormat("a { b")).toMatchObject({ ok: false, at: 2 });
    expect(parseFormat("a } b")).toMatchObject({ ok: false, at: 2 });
    expect(parseFormat("{01}")).toMatchObject({ ok: true, pieces: [{ kind: "arg", index: 1 }] });
  });
});

describe("join", () => {
  it("joins array elements with ',' by default", () => {
    expect(run("join(matrix.tags)")).toBe("a,b,c");
    expect(run("join(matrix.tags, ' | ')")).toBe("a | b | c");
    expect(run("join(fromJSON('[1, null, true]'), '-')")).toBe("1--true");
    expect(run("join(fromJSON('[]'))")).toBe("");
  });

  it("returns a primitive as a string and an object as ''", () => {
    expect(run("join('abc', '-')")).toBe("abc");
    expect(run("join(42)")).toBe("42");
    expect(run("join(null)")).toBe("");
    expect(run("join(matrix)")).toBe("");
  });

  it("stringifies the separator", () => {
    expect(run("join(matrix.tags, 0)")).toBe("a0b0c");
    expect(run("join(matrix.tags, null)")).toBe("abc");
  });
});

describe("toJSON and fromJSON", () => {
  it("toJSON pretty-prints any value", () => {
    expect(run("toJSON(matrix.tags)")).toBe('[\n  "a",\n  "b",\n  "c"\n]');
    expect(run("toJSON('x')")).toBe('"x"');
    expect(run("toJSON(null)")).toBe("null");
    expect(run("toJSON(1.5)")).toBe("1.5");
    expect(run("toJSON(env.MISSING)")).toBe("null");
  });

  it("fromJSON parses JSON into values", () => {
    expect(run("fromJSON('{\"a\": [1, true, null]}')")).toEqual({ a: [1, true, null] });
    expect(run("fromJSON('{\"a\": {\"b\": 2}}').a.b")).toBe(2);
    expect(run("fromJSON('\"s\"')")).toBe("s");
    expect(run("fromJSON('3') == 3")).toBe(true);
    expect(run("fromJSON(inputs.count) > 2")).toBe(true);
  });

  it("fromJSON gives null for invalid JSON and non-strings, never throwing", () => {
    expect(run("fromJSON('{oops')")).toBe(null);
    expect(run("fromJSON('')")).toBe(null);
    expect(run("fromJSON(null)")).toBe(null);
    expect(run("fromJSON(matrix.tags)")).toBe(null);
  });

  it("round-trips", () => {
    expect(run("fromJSON(toJSON(matrix))")).toEqual({ node: 20, os: "linux", tags: ["a", "b", "c"], include: null });
  });

  it("fromJSON keeps '__proto__' as plain data", () => {
    expect(run("fromJSON('{\"__proto__\": {\"x\": 1}}').x")).toBe(null);
    expect(run("fromJSON('{\"__proto__\": {\"x\": 1}}')['__proto__'].x")).toBe(1);
  });
});
