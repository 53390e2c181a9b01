// Where problems inside expressions point: the offset in the line of `if:` and `${{ }}` text.
import { describe, expect, it } from "vitest";
import { diagnosticAt, diagnosticsOf, where } from "./test-helpers";

describe("expressions", () => {
  it("points at the unknown name in a plain if", () => {
    const lines = ["jobs:", "  build:", "    if: branch == 'main' && brnch != ''", "    steps:", "      - run: make"];
    expect(diagnosticAt(lines, "jobs.build.if")).toMatchObject({ ...where(lines, 3, "brnch"), message: "unknown name 'brnch'", hint: "did you mean 'branch'?" });
  });

  it("points at the character in a double-quoted if with escapes", () => {
    const lines = ["jobs:", "  build:", '    if: "contains(branch, \\"x\\") && fromJSON(1, 2)"', "    steps:", "      - run: make"];
    const d = diagnosticAt(lines, "jobs.build.if");
    expect(d).toMatchObject(where(lines, 3, "fromJSON"));
    expect(d.message).toBe("'fromJSON' takes 1 argument, got 2");
  });

  it("points at the character in a single-quoted if with doubled quotes", () => {
    const lines = ["jobs:", "  build:", "    if: 'branch == ''main'' && tga'", "    steps:", "      - run: make"];
    expect(diagnosticAt(lines, "jobs.build.if")).toMatchObject({ ...where(lines, 3, "tga"), hint: "did you mean 'tag'?" });
  });

  it("points inside a ${{ }}-wrapped if", () => {
    const lines = ["jobs:", "  build:", "    if: ${{ branch == 'main' && evnt }}", "    steps:", "      - run: make"];
    expect(diagnosticAt(lines, "jobs.build.if")).toMatchObject({ ...where(lines, 3, "evnt"), hint: "did you mean 'event'?" });
  });

  it("points at the end of an incomplete expression", () => {
    const lines = ["jobs:", "  build:", "    if: branch ==", "    steps:", "      - run: make"];
    const d = diagnosticAt(lines, "jobs.build.if");
    expect(d.line).toBe(3);
    expect(d.column).toBe(lines[2]!.length + 1);
    expect(d.message).toMatch(/unexpected end of expression/);
  });

  it("reports an empty condition", () => {
    const lines = ["jobs:", "  build:", "    if: ${{ }}", "    steps:", "      - run: make"];
    expect(diagnosticAt(lines, "jobs.build.if")).toMatchObject({ message: "empty condition", hint: "write an expression such as branch == 'main'" });
  });

  it("points at the character in a run template on one line", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: echo ${{ brnch }}"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].run")).toMatchObject(where(lines, 4, "brnch"));
  });

  it("points at the character on the right line of a block | run", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: |", "          echo ${{ branch }}", "          echo ${{ bogus.x }}"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].run")).toMatchObject({ ...where(lines, 6, "bogus"), message: "unknown name 'bogus'" });
  });

  it("points at the character in a more-indented line of a block |- run after a blank line", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: |-", "          echo one", "", "            echo ${{ brnch }}"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].run")).toMatchObject(where(lines, 7, "brnch"));
  });

  it("points at the character in a folded > run", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: >", "          make", "          ${{ brnch }}"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].run")).toMatchObject(where(lines, 6, "brnch"));
  });

  it("points at the character in a block | if spanning lines", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: make", "        if: |", "          branch == 'main' &&", "            nope"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].if")).toMatchObject({ ...where(lines, 7, "nope"), message: "unknown name 'nope'" });
  });

  it("points at the character in a double-quoted run with escapes", () => {
    const lines = ["jobs:", "  build:", "    steps:", '      - run: "printf \\"%s\\\\n\\" \\x41 ${{ brnch }}"'];
    expect(diagnosticAt(lines, "jobs.build.steps[0].run")).toMatchObject(where(lines, 4, "brnch"));
  });

  it("points at the character in a multi-line plain scalar", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: echo a", "          b ${{ brnch }}"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].run")).toMatchObject(where(lines, 5, "brnch"));
  });

  it("points at an unterminated string", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: echo ${{ 'abc }}"];
    const d = diagnosticAt(lines, "jobs.build.steps[0].run");
    expect(d).toMatchObject(where(lines, 4, "'abc"));
    expect(d.message).toMatch(/unterminated string/);
  });

  it("points at an unclosed ${{", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: echo ${{ branch"];
    const d = diagnosticAt(lines, "jobs.build.steps[0].run");
    expect(d).toMatchObject(where(lines, 4, "${{"));
    expect(d.message).toMatch(/unclosed/);
  });

  it("does not let steps read needs", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: make", "        if: needs.x.result == 'success'"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].if")).toMatchObject({ ...where(lines, 5, "needs"), message: "unknown name 'needs'" });
  });

  it("allows hashFiles only in the cache key", () => {
    const lines = [
      "jobs:",
      "  build:",
      "    cache:",
      "      key: deps-${{ hashFiles('package-lock.json') }}",
      "      paths: [node_modules]",
      "    steps:",
      "      - run: echo ${{ hashFiles('x') }}",
    ];
    const d = diagnosticAt(lines, "jobs.build.steps[0].run");
    expect(d).toMatchObject({ ...where(lines, 7, "hashFiles"), message: "unknown function 'hashFiles'" });
  });

  it("checks expressions in cache restore keys, which the planner renders", () => {
    const lines = ["jobs:", "  build:", "    matrix: {node: [20]}", "    cache:", "      key: k", "      paths: x", "      restore-keys: ['deps-${{ mtrix.node }}-', 'x-${{ matrix.nod }}']", "    steps:", "      - run: make"];
    expect(diagnosticsOf(lines).map((d) => [d.path, d.line, d.column, d.message])).toEqual([
      ["jobs.build.cache.restore-keys[0]", 7, where(lines, 7, "mtrix").column, "unknown name 'mtrix'"],
      ["jobs.build.cache.restore-keys[1]", 7, where(lines, 7, "'x-").column, "unknown matrix axis 'nod'"],
    ]);
  });

  it("checks expressions in env values, names, images and services", () => {
    const lines = [
      "env:",
      "  A: ${{ brnch }}",
      "jobs:",
      "  build:",
      "    name: build ${{ mtrix.os }}",
      "    image: node:${{ inptus.v }}",
      "    services:",
      "      db: {image: 'pg:${{ evnt }}'}",
      "    steps:",
      "      - run: make",
    ];
    expect(diagnosticsOf(lines).map((d) => [d.path, d.line, d.column])).toEqual([
      ["env.A", 2, where(lines, 2, "brnch").column],
      ["jobs.build.name", 5, where(lines, 5, "mtrix").column],
      ["jobs.build.image", 6, where(lines, 6, "inptus").column],
      ["jobs.build.services.db.image", 8, where(lines, 8, "evnt").column],
    ]);
  });
});
