// `gust validate` and `gust schema`: bad files get every problem with file:line:column; good ones a plan.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gust, tempRepo } from "../helpers/gust-cli";

const BROKEN = `on:
  push:
    branchs: [main]
jobs:
  build:
    steps:
      - run: touch "$GUST_WORKSPACE/../ran"
        timeout: 5 minutes
  test:
    needs: [biuld, deploy]
    if: branch == 'main' &&& true
    steps: [{run: echo}]
  deploy:
    needs: test
    steps: [{run: echo}]
`;

describe("gust validate", () => {
  it("reports all problems of a file at once, with file, line, column, field and hint", async () => {
    const dir = tempRepo({ ".gust.yml": BROKEN });
    const result = await gust(["validate", dir]);
    expect(result.code).toBe(1);
    const out = result.stderr;
    expect(out).toMatch(/\.gust\.yml:3:5: error: unknown key 'branchs'\n\s+at on\.push\.branchs[\s\S]*hint: did you mean 'branches'\?/);
    expect(out).toMatch(/\.gust\.yml:8:18: error: expected a duration/);
    expect(out).toMatch(/\.gust\.yml:10:13: error: unknown job 'biuld' in needs[\s\S]*hint: did you mean 'build'\?/);
    expect(out).toMatch(/error: needs cycle: (test → deploy → test|deploy → test → deploy)/);
    expect(out).toMatch(/\.gust\.yml:11:28: error: unexpected character '&'/);
    expect(out).toMatch(/5 problems found; nothing was run/);
  });

  it("gust run refuses a broken file and runs nothing", async () => {
    const dir = tempRepo({ ".gust.yml": BROKEN });
    const result = await gust(["run", dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("unknown key 'branchs'");
    expect(existsSync(join(dir, "..", "ran"))).toBe(false);
    expect(result.stdout).toBe("");
  });

  it("prints the plan as a tree with skipped jobs and the release", async () => {
    const result = await gust(["validate", "examples/node-app", "--branch", "release/1.0"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("push to release/1.0");
    expect(result.stdout).toMatch(/├─ test \(node: 20\) ← lint/);
    expect(result.stdout).toMatch(/release to fc cn-hangzhou\/hello-fc alias live — skipped: if: branch == 'main' is false/);
    const main = await gust(["validate", "examples/node-app", "--branch", "main"]);
    expect(main.stdout).toMatch(/release to fc cn-hangzhou\/hello-fc alias live: 10% → analysis 5m → 50% → pause 10m → 100%/);
  });

  it("validates one named file and reports YAML syntax errors with their position", async () => {
    const dir = tempRepo({ "ci.yml": "jobs:\n  a:\n    steps: [\n" });
    const result = await gust(["validate", join(dir, "ci.yml")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ci\.yml:\d+:\d+: error: YAML: /);
  });
});

describe("gust schema", () => {
  it("prints the JSON Schema of pipeline files", async () => {
    const result = await gust(["schema"]);
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout) as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(["on", "env", "jobs", "release"]));
    expect(schema.required).toContain("jobs");
  });
});
