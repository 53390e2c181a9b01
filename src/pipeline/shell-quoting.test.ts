import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parsePipeline } from "./parse";
import { planPipeline } from "./plan";
import { quoteStateAfter, variableReference } from "./shell-quoting";

describe("quoteStateAfter", () => {
  it.each([
    ["echo ", "none"],
    ["echo '", "single"],
    ["echo 'a' ", "none"],
    ['echo "', "double"],
    ['echo "it\'s ', "double"],
    ["echo \\' ", "none"],
    ['echo "a \\" b ', "double"],
    ["echo 'a \\' ", "none"],
  ] as const)("%s → %s", (text, state) => {
    expect(quoteStateAfter(text)).toBe(state);
  });

  it("carries state across parts", () => {
    expect(quoteStateAfter("b'", quoteStateAfter("echo 'a"))).toBe("none");
  });

  it("references close a single quote around the variable", () => {
    expect(variableReference("X", "single")).toBe(`'"\${X}"'`);
    expect(variableReference("X", "double")).toBe("${X}");
  });
});

/** Runs a step's planned script with sh, the way executors do. */
function runStep(run: string, branch: string): string {
  const parsed = parsePipeline(`jobs:\n  a:\n    steps:\n      - run: ${JSON.stringify(run)}\n`, ".gust.yml");
  if (!parsed.ok) throw new Error(parsed.diagnostics[0]!.message);
  const planned = planPipeline(parsed.pipeline, { event: "push", ref: `refs/heads/${branch}`, branch, sha: "abc" });
  if (!planned.ok) throw new Error("plan failed");
  const step = planned.plan.jobs[0]!.steps[0]!;
  return execFileSync("sh", ["-e", "-c", step.script], { env: { PATH: process.env.PATH, ...step.env }, encoding: "utf8" });
}

describe("${{ }} in run scripts", () => {
  const hostile = `x'; echo injected; '$(echo sub)\`echo tick\`"`;

  it.each([
    ["unquoted", "echo ${{ branch }}"],
    ["double quotes", 'echo "${{ branch }}"'],
    ["single quotes", "echo '${{ branch }}'"],
    ["single quotes with text around", "echo 'before ${{ branch }} after'"],
  ])("expands to the value in %s and never runs it", (_, run) => {
    const output = runStep(run, hostile);
    expect(output).toContain(hostile);
    expect(output).not.toMatch(/^injected$/m);
    expect(output).not.toMatch(/^sub|^tick/m);
  });
});
