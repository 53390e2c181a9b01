// Where problems of the release section point: target, strategy, analysis and their wiring to jobs.
import { describe, expect, it } from "vitest";
import { diagnosticAt, diagnosticsOf, where } from "./test-helpers";

describe("release", () => {
  const jobs = ["jobs:", "  build:", "    artifacts: dist", "    steps:", "      - run: make", "  test:", "    steps:", "      - run: make test"];

  it("reports release wiring problems, each at its field", () => {
    const lines = [
      ...jobs,
      "release:",
      "  needs: [tset]",
      "  artifact: {from: test}",
      "  target:",
      "    type: fc",
      "    region: cn-hangzhou",
      "    function: hello",
      "  strategy:",
      "    steps:",
      "      - weight: 50",
      "      - weight: 20",
      "      - analysis: {}",
    ];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics.map((d) => [d.path, d.line, d.column, d.message])).toEqual([
      ["release.needs[0]", 10, where(lines, 10, "tset").column, "unknown job 'tset' in needs"],
      ["release.artifact.from", 11, where(lines, 11, "test").column, "job 'test' declares no artifacts"],
      ["release.artifact.from", 11, where(lines, 11, "test").column, "the release takes its artifact from 'test' but does not need it"],
      ["release.strategy.steps[1].weight", 19, where(lines, 19, "20").column, "weight 20 is lower than the previous step's 50"],
      ["release.strategy.steps[2]", 20, where(lines, 20, "analysis").column, "an analysis step needs a release.analysis section"],
    ]);
    expect(diagnostics[0]!.hint).toBe("did you mean 'test'?");
  });

  it("reports target-specific requirements", () => {
    const sae = [...jobs, "release:", "  target:", "    type: sae", "    region: cn-hangzhou", "    app-id: a1"];
    expect(diagnosticAt(sae, "release.target")).toMatchObject({ ...where(sae, 11, "type"), message: "an sae target needs image or package-url" });
    const fc = [...jobs, "release:", "  target: {type: fc, region: r, function: f}"];
    expect(diagnosticAt(fc, "release.target").message).toBe("an fc target needs code: an artifact (release.artifact) or an image");
    const local = [...jobs, "release:", "  target: {type: local, command: node ., port: 8080}"];
    expect(diagnosticAt(local, "release.target").message).toBe("a local target runs a job's artifact");
  });

  it("reports missing target fields", () => {
    const lines = [...jobs, "release:", "  target:", "    type: fc", "    function: f", "    image: x"];
    expect(diagnosticAt(lines, "release.target.region")).toMatchObject({ ...where(lines, 11, "type"), message: "missing required field 'region'" });
  });

  it("reports a missing target", () => {
    const lines = [...jobs, "release:", "  needs: build"];
    expect(diagnosticAt(lines, "release.target")).toMatchObject({ message: "missing required field 'target'" });
  });

  it("reports ab routing on an FC target and an ab without a rule", () => {
    const lines = [...jobs, "release:", "  artifact: {from: build}", "  target: {type: fc, region: r, function: f}", "  strategy:", "    ab: {}", "    steps: [{weight: 100}]"];
    const diagnostics = diagnosticsOf(lines).filter((d) => d.path === "release.strategy.ab");
    expect(diagnostics.map((d) => d.message)).toEqual([
      "FC aliases split traffic by weight only; header or cookie routing is not available",
      "ab needs a header or a cookie to route by",
    ]);
    expect(diagnostics[0]).toMatchObject(where(lines, 13, "{}"));
  });

  it("asks where SAE applies an A/B route, and reads builtin metrics only from the local target", () => {
    const lines = [
      ...jobs,
      "release:",
      "  target: {type: sae, region: r, app-id: a, image: x}",
      "  strategy:",
      "    ab: {header: {name: x-beta, value: '1'}}",
      "    steps: [{weight: 10}]",
      "  analysis:",
      "    metrics: [{name: error-rate, max: 1%}]",
    ];
    expect(diagnosticAt(lines, "release.strategy.ab")).toMatchObject({ ...where(lines, 12, "{header"), hint: "add target.ab-gateway: {alb-ingress: <ingress id>} or {spring-cloud-path: /}" });
    expect(diagnosticAt(lines, "release.analysis.metrics[0]")).toMatchObject({ message: "metric 'error-rate' reads the target's own figures, and sae targets keep none Gust can read" });
    const routed = lines.map((line) => (line.startsWith("  target:") ? "  target: {type: sae, region: r, app-id: a, image: x, ab-gateway: {alb-ingress: alb-1}}" : line));
    expect(diagnosticsOf(routed).filter((d) => d.path === "release.strategy.ab")).toEqual([]);
  });

  it("reports metric problems", () => {
    const lines = [
      ...jobs,
      "release:",
      "  artifact: {from: build}",
      "  target: {type: local, command: node ., port: 8080}",
      "  analysis:",
      "    metrics:",
      "      - name: errors",
      "      - name: error-rate",
      "        builtin: error-rate",
      "        prometheus: {url: 'http://prom:9090', query: q}",
      "        max: 1%",
      "      - name: latency-p99",
      "        max: fast",
    ];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics.map((d) => [d.path, d.line, d.message])).toEqual([
      ["release.analysis.metrics[0]", 14, "metric 'errors' needs a threshold"],
      ["release.analysis.metrics[0].name", 14, "'errors' is not a builtin metric and has no prometheus query"],
      ["release.analysis.metrics[1].prometheus", 17, "a metric is either builtin or prometheus, not both"],
      ["release.analysis.metrics[2].max", 20, "expected a number, a percentage (1%) or a latency (500ms)"],
    ]);
  });

  it("reports a webhook that is not a URL, and a health path without a slash", () => {
    const lines = [...jobs, "release:", "  artifact: {from: build}", "  target: {type: local, command: node ., port: 8080, health-path: healthz}", "  notify: {webhook: not-a-url}"];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics.map((d) => [d.path, d.line, d.column, d.message])).toEqual([
      ["release.target.health-path", 11, where(lines, 11, "healthz").column, "must start with '/'"],
      ["release.notify.webhook", 12, where(lines, 12, "not-a-url").column, "expected a URL, got the string 'not-a-url'"],
    ]);
  });

  it("checks needs.X in the release's if against its needs", () => {
    const release = ["release:", "  artifact: {from: build}", "  target: {type: local, command: node ., port: 8080}"];
    const narrowed = [...jobs, ...release, "  needs: build", "  if: needs.test.result == 'success'"];
    expect(diagnosticAt(narrowed, "release.if")).toMatchObject({ ...where(narrowed, 13, "needs"), message: "'needs.test' refers to a job this one does not need" });
    const everyJob = [...jobs, ...release, "  if: needs.test.result == 'success' && needs.docs.result == 'skipped'"];
    expect(diagnosticAt(everyJob, "release.if").message).toBe("'needs.docs' refers to a job this one does not need");
  });

  it("lists the jobs for an unknown release need that is not close to any", () => {
    const lines = [...jobs, "release:", "  needs: deploy", "  artifact: {from: build}", "  target: {type: local, command: node ., port: 8080}"];
    expect(diagnosticAt(lines, "release.needs")).toMatchObject({ message: "unknown job 'deploy' in needs", hint: "jobs: build, test" });
  });
});
