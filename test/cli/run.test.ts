// `gust run` behaviour end to end: failures, secrets, JSON output, selection, retries, cancel.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { git, GUST, gust, jsonLines, tempRepo } from "../helpers/gust-cli";

describe("gust run", () => {
  it("fails with exit 1, skips dependents and says why in the summary", async () => {
    const dir = tempRepo({
      ".gust.yml": `jobs:
  build:
    steps:
      - run: echo building
      - name: broken
        run: exit 3
      - name: report
        if: failure()
        run: echo reporting the failure
  deploy:
    needs: build
    steps: [{run: echo deploying}]
`,
    });
    const result = await gust(["run", dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("reporting the failure");
    expect(result.stdout).not.toContain("deploying");
    expect(result.stdout).toMatch(/^build\s+✘ failed\s+\S+\s+step 'broken' exited with 3/m);
    expect(result.stdout).toMatch(/^deploy\s+○ skipped\s+-\s+needs 'build' failed/m);
    expect(result.stdout).toMatch(/Pipeline failed/);
  });

  it("masks secrets in every printed line, also when a value is written in two parts", async () => {
    const dir = tempRepo({
      ".gust.yml": `jobs:
  leak:
    secrets: [API_TOKEN]
    steps:
      - run: |
          echo "token is $API_TOKEN"
          printf 'split: tok-'; sleep 0.1; printf 'abcdef-987\\n'
          printf '%s' "$API_TOKEN" | base64
`,
    });
    for (const json of [false, true]) {
      const result = await gust(["run", dir, "--secret", "API_TOKEN=tok-abcdef-987", ...(json ? ["--json"] : [])]);
      expect(result.code).toBe(0);
      expect(result.stdout).not.toContain("tok-abcdef-987");
      expect(result.stdout).not.toContain(Buffer.from("tok-abcdef-987").toString("base64").slice(4, 12));
      expect(result.stdout).toContain("token is ***");
      expect(result.stdout).toContain("split: ***");
    }
  });

  it("reads secrets from a file; a job gets only the secrets it names", async () => {
    const dir = tempRepo({
      "secrets.env": "# local secrets\nDEPLOY_KEY=\"dk-0123456789\"\nOTHER=other-secret-value\n",
      ".gust.yml": `jobs:
  a:
    secrets: [DEPLOY_KEY]
    steps:
      - run: 'test "$DEPLOY_KEY" = dk-0123456789 && test -z "$OTHER" && echo only-named-secret'
`,
    });
    const result = await gust(["run", dir, "--secrets-file", join(dir, "secrets.env")]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("only-named-secret");
  });

  it("--json prints one JSON event per line, ending with the summary", async () => {
    const dir = tempRepo({ ".gust.yml": "jobs:\n  a:\n    steps:\n      - name: hello\n        run: echo hi\n" });
    const result = await gust(["run", dir, "--json"]);
    expect(result.code).toBe(0);
    const events = jsonLines(result.stdout);
    const types = events.map((event) => event.type);
    expect(types[0]).toBe("pipeline-started");
    expect(types).toEqual(expect.arrayContaining(["job-started", "step-started", "log", "step-finished", "job-finished"]));
    expect(types.at(-1)).toBe("summary");
    expect(events.find((event) => event.type === "log" && event.text === "hi")).toMatchObject({ job: "a", stepName: "hello", stream: "stdout" });
    expect(events.at(-1)).toMatchObject({ status: "success", jobs: [{ name: "a", status: "success" }] });
  });

  it("--job runs the named job and what it needs, nothing else", async () => {
    const dir = tempRepo({
      ".gust.yml": `jobs:
  setup: {steps: [{run: echo setup-ran}]}
  test: {needs: setup, steps: [{run: echo test-ran}]}
  docs: {steps: [{run: echo docs-ran}]}
`,
    });
    const result = await gust(["run", dir, "--job", "test"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("setup-ran");
    expect(result.stdout).toContain("test-ran");
    expect(result.stdout).not.toContain("docs-ran");
    expect(result.stdout).toMatch(/^docs\s+○ skipped\s+-\s+not selected \(--job\)/m);
    const unknown = await gust(["run", dir, "--job", "tset"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no job named 'tset'");
  });

  it("retries a job on a listed exit code, and not on others", async () => {
    const dir = tempRepo({
      ".gust.yml": `jobs:
  flaky:
    retry: {count: 2, exit-codes: [75]}
    steps:
      - run: |
          n=$(cat "$COUNTER" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$COUNTER"
          echo "attempt $n"; test $n -ge 2 || exit 75
  hard:
    retry: {count: 2, exit-codes: [75]}
    steps: [{run: exit 1}]
`,
    });
    const counter = join(dir, "counter.txt");
    const result = await gust(["run", dir], { env: { COUNTER: counter } });
    expect(readFileSync(counter, "utf8").trim()).toBe("2");
    expect(result.stdout).toMatch(/retrying \(exit code 75\)/);
    expect(result.stdout).toMatch(/^flaky\s+✔ success.*\(2 attempts\)/m);
    expect(result.stdout).toMatch(/^hard\s+✘ failed/m);
    expect(result.code).toBe(1);
  });

  it("manual inputs reach expressions and are checked against their type", async () => {
    const dir = tempRepo({
      ".gust.yml": `on:
  manual:
    inputs:
      target: {type: choice, options: [staging, production], default: staging}
jobs:
  deploy:
    steps: [{run: 'echo "deploying to \${{ inputs.target }}"'}]
`,
    });
    const ok = await gust(["run", dir, "--event", "manual", "--input", "target=production"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("deploying to production");
    const bad = await gust(["run", dir, "--event", "manual", "--input", "target=prod"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("input 'target' expects one of staging, production, got 'prod'");
  });

  it("event data reaches a script only as an environment variable", async () => {
    const dir = tempRepo({ ".gust.yml": "jobs:\n  a:\n    steps:\n      - run: echo \"branch=${{ branch }}\"\n" });
    const marker = join(dir, "pwned");
    const branch = `x$(touch ${marker})`;
    const result = await gust(["run", dir, "--branch", branch]);
    expect(result.code).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(result.stdout).toContain(`branch=${branch}`);
  });

  it("--commit runs a clean checkout of that commit, not the working tree", async () => {
    const dir = tempRepo({ ".gust.yml": "jobs:\n  a:\n    steps:\n      - run: cat version.txt\n", "version.txt": "committed-v1\n" }, { git: true });
    const first = git(dir, ["rev-parse", "HEAD"]);
    writeFileSync(join(dir, "version.txt"), "committed-v2\n");
    git(dir, ["commit", "-q", "-am", "v2"]);
    writeFileSync(join(dir, "version.txt"), "uncommitted\n");
    const atFirst = await gust(["run", dir, "--commit", first.slice(0, 8)]);
    expect(atFirst.code).toBe(0);
    expect(atFirst.stdout).toContain("committed-v1");
    const working = await gust(["run", dir]);
    expect(working.stdout).toContain("uncommitted");
    const bad = await gust(["run", dir, "--commit", "no-such-ref"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--commit no-such-ref: not a commit");
  });

  it("a push that does not match the triggers runs nothing and says why", async () => {
    const dir = tempRepo({ ".gust.yml": "on: {push: {branches: [main]}}\njobs:\n  a: {steps: [{run: echo ran}]}\n" });
    const result = await gust(["run", dir, "--branch", "feature"]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain("ran");
    expect(result.stderr).toContain("branch 'feature' does not match on.push branches");
  });

  it("Ctrl-C cancels: exit 130, running steps and their children are gone", async () => {
    const dir = tempRepo({
      ".gust.yml": `jobs:
  slow:
    steps:
      - run: |
          sleep 60 &
          echo $! > "$PIDS/child"
          echo started
          sleep 60
  after: {needs: slow, steps: [{run: echo should-not-run}]}
`,
    });
    const child = spawn(process.execPath, [GUST, "run", dir], { env: { ...process.env, NO_COLOR: "1", PIDS: dir }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let interrupted = false;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      // One Ctrl-C cancels gracefully; a second one would force an immediate exit.
      if (stdout.includes("started") && !interrupted) {
        interrupted = true;
        child.kill("SIGINT");
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(130);
    expect(stdout).not.toContain("should-not-run");
    expect(stdout).toMatch(/Pipeline cancelled/);
    const pid = Number(readFileSync(join(dir, "child"), "utf8"));
    expect(isAlive(pid)).toBe(false);
  });

  it("usage errors exit 2 with a hint", async () => {
    const result = await gust(["run", "--parallel", "zero"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--parallel expects a whole number");
    const unknown = await gust(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });
});

/** A killed process whose parent is gone may stay a zombie until init reaps it: that is not alive. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "utf8") : "";
  return !/^\d+ \(.*\) Z/.test(stat);
}
