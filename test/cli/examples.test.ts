// Every example pipeline, run end to end through the real `gust run`.
import { describe, expect, it } from "vitest";
import { gust } from "../helpers/gust-cli";

describe("examples run end to end", () => {
  it("node-app: lint, test matrix, build artifact; release planned, not executed", async () => {
    const result = await gust(["run", "examples/node-app", "--branch", "main"]);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    for (const job of ["lint", "test (node: 20)", "test (node: 24)", "build"]) {
      expect(result.stdout).toMatch(new RegExp(`^${job.replace(/[()]/g, "\\$&")}\\s+✔ success`, "m"));
    }
    expect(result.stdout).toContain("matrix node: 24");
    expect(result.stdout).toContain("artifacts: saved");
    expect(result.stdout).toMatch(/Pipeline succeeded/);
    expect(result.stderr).toContain("release to fc is not executed by gust run");
    expect(result.stderr).toMatch(/images? .*node:20-slim.* not used/);
  });

  it("python-service: unit tests pass, the PostgreSQL service is said not to start", async () => {
    const result = await gust(["run", "examples/python-service", "--branch", "main", "--secret", "REGISTRY_TOKEN=tok-123456"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/services are not started by gust run: job 'test' expects postgres \(postgres:16 on port 5432\)/);
    expect(result.stdout).toMatch(/Ran 4 tests/);
    // gust run starts no services: the database test runs only where a PostgreSQL happens to listen.
    expect(result.stdout).toMatch(/skipped 'PostgreSQL service not reachable|test_connects \(.*\) \.\.\. ok/);
    expect(result.stdout).toMatch(/^image\s+✔ success/m);
    expect(result.stdout).not.toContain("tok-123456");
  });

  it("python-service: a merge request runs the tests; the image job is skipped by its if", async () => {
    const result = await gust(["run", "examples/python-service", "--event", "merge_request", "--branch", "feature/x", "--target", "main"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^image\s+○ skipped\s+-\s+if: branch == 'main' is false/m);
  });

  it("monorepo: path filters pick the pipeline whose files changed", async () => {
    const result = await gust(["run", "examples/monorepo", "--branch", "main", "--changed", "packages/web/index.html"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/pipeline 'api' does not run for this event: no changed file matches paths/);
    expect(result.stdout).toContain("web: bundle ok");
    expect(result.stdout).not.toContain("api: config ok");
  });

  it("monorepo: a change to the API runs only the API pipeline", async () => {
    const result = await gust(["run", "examples/monorepo", "--branch", "main", "--changed", "packages/api/config.ini"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("api: config ok");
    expect(result.stderr).toMatch(/pipeline 'web' does not run/);
  });

  it("monorepo: a docs-only change to web is ignored by paths-ignore", async () => {
    const result = await gust(["run", "examples/monorepo", "--changed", "packages/web/README.md"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/nothing to run/);
  });

  it("every example validates and prints its plan", async () => {
    for (const example of ["node-app", "python-service", "monorepo"]) {
      const result = await gust(["validate", `examples/${example}`, "--branch", "main"]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/✔ .*\.ya?ml — pipeline/);
    }
  });
});
