// `gust pipelines | pipeline | trigger | cancel | retry | logs` against the API double: what they
// print, what they send, and their exit codes.
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliContext } from "../../src/cli/context";
import { runCli } from "../../src/cli/main";
import { palette } from "../../src/cli/output/colors";
import { ApiDouble, type JobScript } from "./api-double";

const TOKEN = "gust_commandstest_abcdefghijklmnopqrstuvwxyz012345";
const READ_TOKEN = "gust_readonly_abcdefghijklmnopqrstuvwxyz0123456789";
const cwd = mkdtempSync(join(tmpdir(), "gust-api-commands-"));
mkdirSync(join(cwd, "service"));

let double: ApiDouble;

async function cli(args: string[], options: { env?: Record<string, string>; colors?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const unused = () => {
    throw new Error("not used by the API commands");
  };
  const ctx: CliContext = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    colors: palette(options.colors ?? false),
    errorColors: palette(options.colors ?? false),
    env: { GUST_SERVER: double.url, GUST_TOKEN: TOKEN, ...options.env },
    cwd,
    createLocalExecutor: unused,
    pruneArtifacts: unused,
    startServer: unused,
    openAdmin: unused,
    migrate: unused,
    readStdin: unused,
    startKubernetesRun: unused,
    onInterrupt: () => () => {},
  };
  const code = await runCli(args, ctx);
  return { code, stdout, stderr };
}

const BUILD: JobScript = {
  name: "build",
  steps: ["install", "compile"],
  lines: [
    { step: null, stream: "system", text: "cloning 9c1e5b7" },
    { step: 0, stream: "stdout", text: "added 212 packages" },
    { step: 0, stream: "stderr", text: "npm warn deprecated glob@7" },
    { step: 1, stream: "stdout", text: "tsc -p ." },
    { step: 1, stream: "stdout", text: "built dist/index.js" },
  ],
  final: "success",
  dropAfter: 3,
};

describe("API commands", () => {
  beforeAll(async () => {
    double = await ApiDouble.start();
    double.tokens.set(TOKEN, ["write"]);
    double.tokens.set(READ_TOKEN, ["read"]);
    const app = double.addRepository("acme/app");
    const local = double.addRepository(join(cwd, "service"), "local");
    double.addPipeline(app.id, "ci", [{ ...BUILD, lines: [] }], { status: "success", event: "push", startedAt: "2025-05-01T10:01:00.000Z", finishedAt: "2025-05-01T10:02:05.000Z" });
    double.addPipeline(local.id, "nightly", [], { status: "failure", event: "schedule", branch: "develop", ref: "refs/heads/develop" });
    double.addPipeline(app.id, "release", [], { status: "running", event: "tag", branch: null, tag: "v1.2.0", ref: "refs/tags/v1.2.0", startedAt: "2025-05-01T10:03:00.000Z" });
  });
  afterAll(async () => {
    await double.close();
  });

  it("lists pipelines of every repository, newest first, with their repository", async () => {
    const result = await cli(["pipelines"]);
    expect(result.code, result.stderr).toBe(0);
    const [header, ...rows] = result.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^ID\s+#\s+REPOSITORY\s+PIPELINE\s+STATUS\s+REF\s+SHA\s+EVENT\s+DURATION\s+AGE$/);
    expect(rows[0]).toMatch(/^ 3\s+2\s+acme\/app\s+release\s+● running\s+v1\.2\.0\s+3f9a1c2\s+tag\s+\S+\s+\d+[smhd] ago$/);
    expect(rows[1]).toMatch(new RegExp(`^ 2\\s+1\\s+${join(cwd, "service")}\\s+nightly\\s+✘ failure\\s+develop\\s+3f9a1c2\\s+schedule\\s+-\\s+`));
    expect(rows[2]).toMatch(/^ 1\s+1\s+acme\/app\s+ci\s+✔ success\s+main\s+3f9a1c2\s+push\s+1m5s\s+/);
    expect(double.requests.at(-2)).toMatchObject({ path: "/api/pipelines?limit=20", authorization: `Bearer ${TOKEN}` });
  });

  it("finds a repository by full name, by local path or by id, and filters", async () => {
    const byName = await cli(["pipelines", "acme/app", "--status", "running", "--status", "success", "--branch", "main"]);
    expect(byName.code, byName.stderr).toBe(0);
    expect(double.requests.map((r) => r.path)).toContain("/api/pipelines?repository=1&branch=main&status=running%2Csuccess&limit=20");
    expect(byName.stdout).not.toContain("REPOSITORY");

    const byPath = await cli(["pipelines", "./service"]);
    expect(double.requests.map((r) => r.path)).toContain(`/api/repositories?name=${encodeURIComponent(join(cwd, "service"))}`);
    expect(byPath.stdout).toMatch(/nightly\s+✘ failure/);
    expect(byPath.stdout).not.toMatch(/release|\bci\b/);

    const byId = await cli(["pipelines", "1", "--json"]);
    const listed = JSON.parse(byId.stdout) as { pipelines: Array<{ id: number; name: string }> };
    expect(listed.pipelines.map((p) => p.name)).toEqual(["release", "ci"]);

    const unknown = await cli(["pipelines", "acme/nope"]);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining("no repository 'acme/nope'") });
    const badStatus = await cli(["pipelines", "--status", "done"]);
    expect(badStatus).toMatchObject({ code: 2, stderr: expect.stringContaining("--status must be one of pending, running, success, failure, cancelled, error, skipped, got 'done'") });
  });

  it("follows the cursor when the server's pages are smaller than --limit", async () => {
    double.pageSize = 2;
    try {
      const result = await cli(["pipelines", "--limit", "3", "--json"]);
      expect((JSON.parse(result.stdout) as { pipelines: unknown[] }).pipelines).toHaveLength(3);
      expect(double.requests.filter((r) => r.path.startsWith("/api/pipelines?")).slice(-2).map((r) => r.path)).toEqual(["/api/pipelines?limit=3", "/api/pipelines?limit=1&cursor=2"]);
    } finally {
      double.pageSize = 50;
    }
  });

  it("shows a pipeline with its jobs and their ids", async () => {
    const result = await cli(["pipeline", "1"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^#1 ci {2}✔ success {2}acme\/app · main @ 3f9a1c2 · push · \.gust\.yml · 1m5s · \d+d ago$/m);
    expect(result.stdout).toMatch(/^JOB ID\s+JOB\s+STATUS\s+DURATION\s+DETAIL$/m);
    expect(result.stdout).toMatch(/^\s+100\s+build\s+◌ queued\s+-$/m);
    const missing = await cli(["pipeline", "77"]);
    expect(missing).toMatchObject({ code: 1, stderr: "error: pipeline 77 not found\n" });
    expect(await cli(["pipeline", "x1"])).toMatchObject({ code: 2, stderr: expect.stringContaining("pipeline ID must be a positive whole number, got 'x1'") });
  });

  it("triggers with typed inputs, a ref and a pipeline name, and prints the created pipelines", async () => {
    double.nextRun = [{ name: "deploy", jobs: [BUILD] }, { name: "docs", jobs: [BUILD] }];
    const result = await cli(["trigger", "acme/app", "--ref", "release/2.0", "--pipeline", "deploy", "--input", "dry=true", "--input", "replicas=3", "--input", "tag=007", "--input", "note=a=b"]);
    expect(result.code, result.stderr).toBe(0);
    const trigger = double.requests.find((r) => r.path === "/api/repositories/1/trigger")!;
    expect(trigger.body).toEqual({ ref: "release/2.0", pipeline: "deploy", inputs: { dry: true, replicas: 3, tag: "007", note: "a=b" } });
    expect(result.stdout).toMatch(/^✔ triggered acme\/app at release\/2\.0 \(9c1e5b7\)$/m);
    expect(result.stdout).toMatch(/^ {2}#3 deploy {2}◌ pending {2}id 4$/m);
    expect(result.stdout).toContain("gust pipeline 4");

    double.nextRun = [];
    const nothing = await cli(["trigger", "acme/app"]);
    expect(nothing).toMatchObject({ code: 1, stderr: "nothing triggered in acme/app at main (9c1e5b7): no pipeline file has a manual trigger\n" });
    expect(await cli(["trigger"])).toMatchObject({ code: 2, stderr: expect.stringContaining("gust trigger takes one REPO") });
    expect(await cli(["trigger", "acme/app", "--input", "novalue"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--input expects NAME=VALUE, got 'novalue'") });
  });

  it("follows a triggered pipeline's jobs live: every line once under its job and step, a skipped job noticed, exit 1 when a job failed", async () => {
    double.nextRun = [
      {
        name: "ci",
        jobs: [
          BUILD,
          { name: "lint", steps: ["eslint"], lines: [{ step: 0, stream: "stdout", text: "src/a.ts: 2 problems" }], final: "failure", detail: "step 'eslint' exited with 1" },
          // Skipped once lint fails; its stream never ends by itself.
          { name: "publish", steps: ["npm publish"], lines: [], final: "success", needs: ["lint"], hang: true },
        ],
      },
    ];
    const result = await cli(["trigger", "acme/app", "--follow"]);
    expect(result.code, result.stderr).toBe(1);
    const out = result.stdout;
    expect(out).toMatch(/^▶ #\d+ ci \(id \d+\)$/m);
    for (const line of ["build   · cloning 9c1e5b7", "build   install │ added 212 packages", "build   install ! npm warn deprecated glob@7", "build   compile │ tsc -p .", "build   compile │ built dist/index.js", "lint    eslint │ src/a.ts: 2 problems"]) {
      expect(out.split("\n").filter((printed) => printed === line), line).toHaveLength(1);
    }
    expect(out.indexOf("added 212 packages")).toBeLessThan(out.indexOf("built dist/index.js"));
    expect(out).toMatch(/^build {3}✔ job succeeded \S+$/m);
    expect(out).toMatch(/^lint {4}✘ job failed: step 'eslint' exited with 1/m);
    expect(out).toMatch(/^publish ○ job skipped$/m);
    expect(out).toMatch(/^\s+\d+\s+publish\s+○ skipped\s+-$/m);
    expect(out).toMatch(/^Pipeline #\d+ failed/m);
  });

  it("exits 0 when the followed pipeline succeeded, after a job that waited for another", async () => {
    double.nextRun = [{ name: "ci", jobs: [BUILD, { name: "deploy", steps: ["ship"], lines: [{ step: 0, stream: "stdout", text: "shipped" }], final: "success", needs: ["build"] }] }];
    const result = await cli(["trigger", "acme/app", "-f"]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^deploy ship │ shipped$/m);
    expect(result.stdout).toMatch(/^Pipeline #\d+ succeeded/m);
  });

  it("prints a job's stored log page by page, as text or JSON", async () => {
    const pipeline = double.addPipeline(1, "stored", [{ ...BUILD, dropAfter: undefined }]);
    const [state] = double.jobsOf(pipeline.id);
    double.finishJob(state!);
    double.pageSize = 2;
    try {
      const text = await cli(["logs", String(state!.job.id)]);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toBe("· cloning 9c1e5b7\ninstall │ added 212 packages\ninstall ! npm warn deprecated glob@7\ncompile │ tsc -p .\ncompile │ built dist/index.js\n");
      expect(double.requests.filter((r) => r.path.startsWith(`/api/jobs/${state!.job.id}/logs?`)).map((r) => r.path.replace(/^.*\?/, ""))).toEqual(["after=0", "after=2", "after=4"]);
      const json = await cli(["logs", String(state!.job.id), "--json"]);
      const lines = json.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as { number: number; stream: string; step: number | null });
      expect(lines.map((line) => line.number)).toEqual([1, 2, 3, 4, 5]);
      expect(lines[2]).toMatchObject({ stream: "stderr", step: 0 });
    } finally {
      double.pageSize = 50;
    }
  });

  it("follows a job's log across a dropped connection and exits with the job's result; colors only when asked", async () => {
    const pipeline = double.addPipeline(1, "live", [BUILD, { ...BUILD, name: "flaky", final: "failure", detail: "step 'compile' exited with 2" }]);
    const [build, flaky] = double.jobsOf(pipeline.id);
    const followed = await cli(["logs", String(build!.job.id), "-f"]);
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout).toMatch(/^· cloning 9c1e5b7\ninstall │ added 212 packages\ninstall ! npm warn deprecated glob@7\ncompile │ tsc -p \.\ncompile │ built dist\/index\.js\n✔ job succeeded \S+\n$/);
    expect(double.requests.filter((r) => r.path.startsWith(`/api/jobs/${build!.job.id}/logs/stream`)).map((r) => r.lastEventId)).toEqual(["0", "3"]);
    expect(followed.stdout).not.toContain("\u001b[");

    const failed = await cli(["logs", String(flaky!.job.id), "--follow"], { colors: true });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("\u001b[33mnpm warn deprecated glob@7\u001b[39m");
    expect(failed.stdout).toContain("✘ job failed: step 'compile' exited with 2");
  });

  it("cancels once, then says the pipeline had finished", async () => {
    const pipeline = double.addPipeline(1, "to-cancel", [BUILD]);
    const first = await cli(["cancel", String(pipeline.id)]);
    expect(first).toMatchObject({ code: 0, stdout: `■ cancelled pipeline ${pipeline.id} (now ■ cancelled)\n` });
    const again = await cli(["cancel", String(pipeline.id)]);
    expect(again).toMatchObject({ code: 1, stderr: `pipeline ${pipeline.id} had already finished: ■ cancelled\n` });
  });

  it("retries a whole pipeline as a new one, and refuses --failed while it runs", async () => {
    const running = double.addPipeline(1, "retry-me", [BUILD], { status: "running" });
    const whole = await cli(["retry", String(running.id)]);
    expect(whole.code, whole.stderr).toBe(0);
    expect(whole.stdout).toMatch(new RegExp(`^↻ retried pipeline ${running.id} as #\\d+ \\(id ${running.id + 1}, ◌ pending\\)$`, "m"));
    expect(double.requests.at(-1)).toMatchObject({ method: "POST", path: `/api/pipelines/${running.id}/retry`, body: { failedOnly: false } });
    const refused = await cli(["retry", String(running.id), "--failed"]);
    expect(refused).toMatchObject({ code: 1, stderr: `error: pipeline ${running.id} is still running\n` });
  });

  it("explains a missing or weak token without printing it", async () => {
    const none = await cli(["pipelines"], { env: { GUST_TOKEN: "", GUST_DATA_DIR: join(cwd, "no-data") } });
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(`error: an API token is required\n  hint: no token was found (--token, GUST_TOKEN or ${join(cwd, "no-data", "cli-token")}); create a token with \`gust token create\`\n`);
    const weak = await cli(["cancel", "1"], { env: { GUST_TOKEN: READ_TOKEN } });
    expect(weak).toMatchObject({ code: 1, stderr: "error: this token lacks the 'write' scope\n" });
    const wrong = await cli(["logs", "100", "--token", "gust_not_a_known_token_0123456789"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("the token from --token was refused; create a token with `gust token create`");
    expect(wrong.stderr + wrong.stdout).not.toContain("gust_not_a_known_token_0123456789");
  });

  it("prints help for each command and lists them in gust --help", async () => {
    for (const command of ["pipelines", "pipeline", "trigger", "cancel", "retry", "logs"]) {
      const help = await cli([command, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: gust ${command}`));
      expect(help.stdout).toContain("--server URL");
    }
    expect((await cli(["--help"])).stdout).toMatch(/^ {2}trigger REPO/m);
  });
});
