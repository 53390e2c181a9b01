// Parsing a pipeline file: which files are pipelines, and text → model or every problem.
import { describe, expect, it } from "vitest";
import { defaultPipelineName, parsePipeline, pipelineFilesIn } from "./parse";
import { parseOk, source } from "./test-helpers";

describe("pipelineFilesIn", () => {
  it("finds the root file and the files of .gust/, root first, then by name", () => {
    expect(pipelineFilesIn(["src/a.ts", ".gust/release.yml", ".gust/ci.yaml", ".gust.yml", "README.md"])).toEqual([".gust.yml", ".gust/ci.yaml", ".gust/release.yml"]);
  });

  it("accepts .gust.yaml at the root", () => {
    expect(pipelineFilesIn([".gust.yaml"])).toEqual([".gust.yaml"]);
  });

  it("ignores nested folders, other extensions and look-alikes", () => {
    expect(pipelineFilesIn([".gust/sub/x.yml", ".gust/x.json", "app/.gust.yml", ".gust.yml.bak", "x/.gust/y.yml", ".gust/.yml"])).toEqual([]);
  });

  it("accepts any iterable", () => {
    expect(pipelineFilesIn(new Set([".gust/b.yml", ".gust/a.yml"]))).toEqual([".gust/a.yml", ".gust/b.yml"]);
  });
});

describe("defaultPipelineName", () => {
  it("names a .gust/ file after itself and the root file after the fallback", () => {
    expect(defaultPipelineName(".gust/deploy.yml", "repo")).toBe("deploy");
    expect(defaultPipelineName(".gust/nightly-build.yaml", "repo")).toBe("nightly-build");
    expect(defaultPipelineName(".gust.yml", "my-repo")).toBe("my-repo");
  });
});

describe("parsePipeline", () => {
  it("returns the model and the source for a valid file", () => {
    const text = source(["name: ci", "jobs:", "  build:", "    steps:", "      - run: make"]);
    const result = parsePipeline(text, ".gust.yml");
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.pipeline.name).toBe("ci");
    expect(result.source.text).toBe(text);
    expect(result.source.sourceLine(5)).toBe("      - run: make");
  });

  it("uses the fallback name it is given", () => {
    const result = parsePipeline(source(["jobs:", "  a: {steps: [{run: x}]}"]), ".gust.yml", "gust-demo");
    expect(result.ok && result.pipeline.name).toBe("gust-demo");
  });

  it("resolves anchors and aliases", () => {
    const pipeline = parseOk(["jobs:", "  build:", "    image: &img node:20", "    steps: &steps", "      - run: make", "  test:", "    image: *img", "    steps: *steps"]);
    expect(pipeline.jobs.map((job) => [job.id, job.image, job.steps[0]!.run])).toEqual([
      ["build", "node:20", "make"],
      ["test", "node:20", "make"],
    ]);
  });

  it("merges a map with <<", () => {
    const pipeline = parseOk(["jobs:", "  build: &base", "    image: node:20", "    steps: [{run: make}]", "  test:", "    <<: *base", "    timeout: 5m"]);
    expect(pipeline.jobs[1]).toMatchObject({ id: "test", image: "node:20", timeoutMs: 300_000 });
  });

  it("reports unknown top-level keys even with a valid rest (no x- extension keys)", () => {
    const result = parsePipeline(source(["x-defaults: {a: 1}", "jobs:", "  a: {steps: [{run: x}]}"]), ".gust.yml");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.diagnostics.map((d) => d.path)).toEqual(["x-defaults"]);
  });

  it("does not normalize a file with problems", () => {
    const result = parsePipeline(source(["jobs:", "  a:", "    steps: []"]), ".gust.yml");
    expect(result).toMatchObject({ ok: false });
    expect("pipeline" in result).toBe(false);
  });

  it("reports cross-field problems even when the schema accepts the file", () => {
    const result = parsePipeline(source(["jobs:", "  a: {needs: b, steps: [{run: x}]}", "  b: {needs: a, steps: [{run: x}]}"]), ".gust.yml");
    expect(result.ok).toBe(false);
  });

  it("accepts Windows line endings with correct positions", () => {
    const text = "jobs:\r\n  build:\r\n    neds: x\r\n    steps: [{run: x}]\r\n";
    const result = parsePipeline(text, ".gust.yml");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.diagnostics[0]).toMatchObject({ line: 3, column: 5, path: "jobs.build.neds" });
  });
});
