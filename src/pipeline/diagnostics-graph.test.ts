// Where problems of the job graph point: needs and matrix references.
import { describe, expect, it } from "vitest";
import { parsePipeline } from "./parse";
import { diagnosticAt, diagnosticsOf, JOB, source, where } from "./test-helpers";

describe("needs", () => {
  it("names an unknown job and suggests the closest", () => {
    const lines = ["jobs:", ...JOB, "  test:", "    needs: [biuld]", "    steps:", "      - run: make test"];
    expect(diagnosticAt(lines, "jobs.test.needs[0]")).toMatchObject({ ...where(lines, 6, "biuld"), message: "unknown job 'biuld' in needs", hint: "did you mean 'build'?" });
  });

  it("lists the jobs when an unknown need is not close to any", () => {
    const lines = ["jobs:", ...JOB, "  test:", "    needs: deploy", "    steps:", "      - run: make test"];
    expect(diagnosticAt(lines, "jobs.test.needs")).toMatchObject({ ...where(lines, 6, "deploy"), message: "unknown job 'deploy' in needs", hint: "jobs: build, test" });
  });

  it("reports a job that needs itself", () => {
    const lines = ["jobs:", "  build:", "    needs: [build]", "    steps:", "      - run: make"];
    expect(diagnosticsOf(lines)).toEqual([{ file: ".gust.yml", ...where(lines, 3, "build]"), path: "jobs.build.needs[0]", message: "job 'build' needs itself", hint: "remove 'build' from its needs" }]);
  });

  it("reports a 2-job cycle once, naming it", () => {
    const lines = ["jobs:", "  a:", "    needs: b", "    steps: [{run: x}]", "  b:", "    needs: [a]", "    steps: [{run: x}]"];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ ...where(lines, 6, "a]"), path: "jobs.b.needs[0]", message: "needs cycle: a → b → a" });
    expect(diagnostics[0]!.hint).toMatch(/remove one of these needs/);
  });

  it("reports a 3-job cycle once, with the whole path", () => {
    const lines = ["jobs:", "  c:", "    needs: d", "    steps: [{run: x}]", "  d:", "    needs: e", "    steps: [{run: x}]", "  e:", "    needs: [x, c]", "    steps: [{run: x}]", "  x:", "    steps: [{run: x}]"];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ ...where(lines, 9, "c]"), path: "jobs.e.needs[1]", message: "needs cycle: c → d → e → c" });
  });

  it("reports two separate cycles each once", () => {
    const lines = ["jobs:", "  a: {needs: b, steps: [{run: x}]}", "  b: {needs: a, steps: [{run: x}]}", "  c: {needs: d, steps: [{run: x}]}", "  d: {needs: c, steps: [{run: x}]}"];
    expect(diagnosticsOf(lines).map((d) => d.message)).toEqual(["needs cycle: a → b → a", "needs cycle: c → d → c"]);
  });

  it("reports needs.X in a job if when X is not needed", () => {
    const lines = ["jobs:", ...JOB, "  test:", "    needs: build", "    if: needs.biuld.result == 'success'", "    steps:", "      - run: make test"];
    expect(diagnosticAt(lines, "jobs.test.if")).toMatchObject({ ...where(lines, 7, "needs"), message: "'needs.biuld' refers to a job this one does not need", hint: "did you mean 'build'?" });
  });

  it("suggests adding the job to needs", () => {
    const lines = ["jobs:", ...JOB, "  test:", "    if: needs.build.result == 'success'", "    steps:", "      - run: make test"];
    expect(diagnosticAt(lines, "jobs.test.if").hint).toBe("add 'build' to needs");
  });

  it("does not report needs.X again when X is listed in needs but unknown", () => {
    const lines = ["jobs:", ...JOB, "  test:", "    needs: [nope]", "    if: needs.nope.result == 'success'", "    steps:", "      - run: make test"];
    expect(diagnosticsOf(lines).map((d) => [d.path, d.message])).toEqual([["jobs.test.needs[0]", "unknown job 'nope' in needs"]]);
  });

  it("reports a needs field other than result", () => {
    const lines = ["jobs:", ...JOB, "  test:", "    needs: build", "    if: needs.build.outputs.x == '1'", "    steps:", "      - run: make test"];
    expect(diagnosticAt(lines, "jobs.test.if")).toMatchObject({ message: "'needs.build.outputs' is unknown", hint: "only needs.<job>.result exists" });
  });
});

describe("matrix references", () => {
  const job = (extra: string[]) => ["jobs:", "  test:", "    matrix:", "      node: [18, 20]", "      os: [linux]", ...extra];

  it("reports an unknown axis in a run template with a suggestion", () => {
    const lines = job(["    steps:", "      - run: echo ${{ matrix.nod }}"]);
    expect(diagnosticAt(lines, "jobs.test.steps[0].run")).toMatchObject({ ...where(lines, 7, "echo"), message: "unknown matrix axis 'nod'", hint: "did you mean 'node'?" });
  });

  it("reports an unknown axis in an if", () => {
    const lines = job(["    if: matrix.arch == 'arm'", "    steps:", "      - run: make"]);
    expect(diagnosticAt(lines, "jobs.test.if")).toMatchObject({ ...where(lines, 6, "matrix"), message: "unknown matrix axis 'arch'", hint: "axes: node, os" });
  });

  it("knows keys that include adds", () => {
    const lines = job(["      include: [{node: 20, experimental: true}]", "    steps:", "      - run: echo ${{ matrix.experimental }}"]);
    expect(parsePipeline(source(lines), ".gust.yml").ok).toBe(true);
  });

  it("reports matrix use in a job without a matrix", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: make", "        env:", "          NODE: ${{ matrix.node }}"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].env.NODE")).toMatchObject({ ...where(lines, 6, "${{"), message: "'matrix.node' is used but job 'build' has no matrix" });
  });

  it("reports an exclude naming an unknown axis, at the key", () => {
    const lines = job(["      exclude:", "        - {nod: 18, os: linux}", "    steps:", "      - run: make"]);
    expect(diagnosticAt(lines, "jobs.test.matrix.exclude[0].nod")).toMatchObject({ ...where(lines, 7, "nod"), message: "exclude names 'nod', which is not a matrix axis", hint: "did you mean 'node'?" });
  });
});
