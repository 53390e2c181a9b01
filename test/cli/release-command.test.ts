// `gust release list|status|promote|pause|resume|abort|rollback` against the real API on a real
// database (releases made as in test/http/api-releases.test.ts): what they print, what they queue,
// --watch until the release ends, and their exit codes (409 → 1 with the server's reason).
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { CliContext } from "../../src/cli/context";
import { runCli } from "../../src/cli/main";
import { palette } from "../../src/cli/output/colors";
import { ReleasesStore } from "../../src/store";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { createApiHarness, type ApiHarness } from "../http/api-harness";
import { pausedHistory, pausedState, progressingState, promotedState, RELEASE_T0, rolledBackState, saveState, startRelease } from "../http/release-fixtures";

const CLOCK = "(?:\\d{4}-\\d\\d-\\d\\d )?\\d\\d:\\d\\d:\\d\\d";

describe.each(DATABASE_KINDS)("gust release (%s)", (kind) => {
  const test = useTestDatabase(kind);
  let api: ApiHarness;
  let url: string;
  beforeAll(async () => {
    api = await createApiHarness(test.database);
    url = await api.listen();
  });
  afterAll(() => api.close());
  beforeEach(async () => {
    for (const repository of await api.repositories.listRepositories()) await api.repositories.deleteRepository(repository.id);
  });

  /** Runs a command; `stdout()` reads what it printed so far. */
  function start(args: string[], options: { token?: string; colors?: boolean } = {}) {
    let stdout = "";
    let stderr = "";
    const unused = () => {
      throw new Error("not used by the release commands");
    };
    const ctx: CliContext = {
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
      colors: palette(options.colors ?? false),
      errorColors: palette(false),
      env: { GUST_SERVER: url, GUST_TOKEN: options.token ?? api.token.write },
      cwd: process.cwd(),
      createLocalExecutor: unused,
      pruneArtifacts: unused,
      startServer: unused,
      openAdmin: unused,
      migrate: unused,
      readStdin: unused,
      startKubernetesRun: unused,
      onInterrupt: () => () => {},
    };
    const result = runCli(args, ctx).then((code) => ({ code, stdout, stderr }));
    return { result, stdout: () => stdout };
  }
  const cli = (args: string[], options: { token?: string; colors?: boolean } = {}) => start(args, options).result;

  it("lists releases with repository, pipeline, target, phase and weight, and filters them", async () => {
    const first = await startRelease(test.database);
    const second = await startRelease(test.database, { repositoryId: first.repositoryId });
    const other = await startRelease(test.database);
    await saveState(test.database, first, promotedState());
    await saveState(test.database, second, progressingState(20));
    const name = (await api.repositories.getRepository(first.repositoryId))!.fullName;

    const all = await cli(["release", "list"], { token: api.token.read });
    expect(all.code, all.stderr).toBe(0);
    const [header, ...rows] = all.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^ID\s+REPOSITORY\s+PIPELINE\s+TARGET\s+VERSION\s+PHASE\s+WEIGHT\s+AGE$/);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(new RegExp(`^\\s*${other.releaseId}\\s+acme/\\w+\\s+#1\\s+${other.target}\\s+-\\s+◌ publishing\\s+0%\\s+\\d+[smhd] ago$`));
    expect(rows[1]).toMatch(new RegExp(`^\\s*${second.releaseId}\\s+${name}\\s+#2\\s+${second.target}\\s+v4\\s+● progressing\\s+20%\\s+`));
    expect(rows[2]).toMatch(new RegExp(`^\\s*${first.releaseId}\\s+${name}\\s+#1\\s+${first.target}\\s+v4\\s+✔ promoted\\s+100%\\s+`));

    const active = await cli(["release", "list", "--repo", name, "--active"]);
    expect(active.stdout.trimEnd().split("\n").slice(1).map((row) => Number(row.trim().split(/\s+/)[0]))).toEqual([second.releaseId]);
    const byTarget = await cli(["release", "list", "--target", other.target, "--json"]);
    expect((JSON.parse(byTarget.stdout) as { releases: Array<{ id: number }> }).releases.map((release) => release.id)).toEqual([other.releaseId]);
    const byId = await cli(["release", "list", "--repo", String(first.repositoryId), "--limit", "1", "--json"]);
    expect((JSON.parse(byId.stdout) as { releases: Array<{ id: number }> }).releases.map((release) => release.id)).toEqual([second.releaseId]);

    const none = await cli(["release", "list", "--target", "local :1", "--active"]);
    expect(none).toMatchObject({ code: 0, stdout: "no active releases to local :1\n" });
    const unknown = await cli(["release", "list", "--repo", "acme/nope"]);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining("no repository 'acme/nope'") });
  });

  it("shows where a release stands: traffic bar, steps, analysis, pause, history, pending commands", async () => {
    const release = await startRelease(test.database);
    await saveState(test.database, release, pausedState(), { transitions: pausedHistory() });
    await new ReleasesStore(test.database).queueCommand(release.releaseId, "resume", "ops");
    const result = await cli(["release", "status", String(release.releaseId)], { token: api.token.read });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(new RegExp(`^release ${release.releaseId} {2}‖ paused {2}acme/\\w+ · pipeline #1 · ${release.target} · \\d+[smhd] ago$`));
    expect(lines[1]).toBe("version v4 over v3");
    expect(lines[2]).toBe("stable v3 ████████████████░░░░ 80% │ canary v4 20%");
    expect(result.stdout).toContain("\npaused: step 4 waits for a person to resume or promote\n");
    expect(result.stdout).toContain(`gust release resume ${release.releaseId}`);
    expect(result.stdout).toContain(["steps", "  ✔ 1. weight 20%", "  ✔ 2. pause 5m", "  ✔ 3. analysis 3m", "  ▶ 4. pause until resumed", "    5. weight 100%"].join("\n"));
    expect(result.stdout).toMatch(new RegExp(`\\nanalysis {2}✔ pass at ${CLOCK} · 0 failed, 1 inconclusive so far\\n {2}error-rate {2}✔ pass {2}0\\.2% ≤ 1%\\n`));
    expect(result.stdout).toMatch(new RegExp(`\\nhistory\\n {2}${CLOCK} {2}publishing → ● progressing {4}0% {2}version 4 published; step 1/5: weight 20%\\n {2}${CLOCK} {2}progressing → ‖ paused {7}20% {2}step 4 waits for a person to resume or promote\\n`));
    expect(result.stdout).toContain("asked, not applied yet: resume by ops\n");

    const json = await cli(["release", "status", String(release.releaseId), "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: release.releaseId, phase: "paused", stepIndex: 3, live: { canary: { version: "4", weight: 20 } } });
  });

  it("shows a release still publishing and one that ended, with its result", async () => {
    const release = await startRelease(test.database);
    const publishing = await cli(["release", "status", String(release.releaseId)]);
    expect(publishing.stdout.split("\n").slice(1, 3)).toEqual(["version not published yet", "traffic not read yet"]);
    expect(publishing.stdout).toContain("    1. weight 20%");

    await saveState(test.database, release, rolledBackState());
    const ended = await cli(["release", "status", String(release.releaseId)]);
    expect(ended.stdout).toMatch(/^release \d+ {2}↩ rolled back {2}/);
    expect(ended.stdout).toContain("stable v3 ████████████████████ 100%\n");
    expect(ended.stdout).toContain("\nresult: analysis failed 1 times (error-rate 7% > 1%)\n");
    expect(ended.stdout).not.toContain("▶");
  });

  it("asks a release to promote, fully or past one step, and says what was asked", async () => {
    const release = await startRelease(test.database);
    await saveState(test.database, release, progressingState(20));
    const promoted = await cli(["release", "promote", String(release.releaseId)]);
    expect(promoted).toEqual({ code: 0, stdout: `→ asked release ${release.releaseId} to promote past its current step\n  gust release status ${release.releaseId} --watch   to follow it\n`, stderr: "" });
    const full = await cli(["release", "promote", String(release.releaseId), "--full"]);
    expect(full.stdout).toContain(`asked release ${release.releaseId} to promote fully: the new version takes all traffic`);
    const paused = await cli(["release", "pause", String(release.releaseId)]);
    expect(paused.stdout).toContain("to pause: traffic stays where it is");
    const rollback = await cli(["release", "rollback", String(release.releaseId)]);
    expect(rollback.stdout).toContain("to roll back: traffic goes back to the version before");
    const pending = await new ReleasesStore(test.database).pendingCommands(release.releaseId);
    expect(pending.map((command) => [command.command, command.requestedBy])).toEqual([
      ["promote", "writer"],
      ["promote-full", "writer"],
      ["pause", "writer"],
      ["rollback", "writer"],
    ]);
  });

  it("exits 1 with the server's reason when the command cannot apply, and when the token may not", async () => {
    const release = await startRelease(test.database);
    await saveState(test.database, release, promotedState());
    const refused = await cli(["release", "promote", String(release.releaseId)]);
    expect(refused).toEqual({ code: 1, stdout: "", stderr: `error: cannot promote release ${release.releaseId}: the release is already promoted\n` });
    const resume = await cli(["release", "resume", String(release.releaseId)]);
    expect(resume).toMatchObject({ code: 1, stderr: `error: cannot resume release ${release.releaseId}: the release is already promoted\n` });
    const missing = await cli(["release", "abort", "987654"]);
    expect(missing).toMatchObject({ code: 1, stderr: "error: release 987654 not found\n" });
    const weak = await cli(["release", "abort", String(release.releaseId)], { token: api.token.read });
    expect(weak).toMatchObject({ code: 1, stderr: "error: this token lacks the 'write' scope\n" });
    expect(await new ReleasesStore(test.database).pendingCommands(release.releaseId)).toEqual([]);
  });

  it("watches a release until it ends: the changes as they come, then exit 0 when promoted", async () => {
    const release = await startRelease(test.database);
    await saveState(test.database, release, progressingState(20), { transitions: pausedHistory().slice(0, 1) });
    const watch = start(["release", "status", String(release.releaseId), "--watch", "--interval", "0.05"]);
    await vi.waitFor(() => expect(watch.stdout()).toContain("history"), { timeout: 10_000 });

    await saveState(test.database, release, progressingState(50));
    await vi.waitFor(() => expect(watch.stdout()).toContain("stable v3 ██████████░░░░░░░░░░ 50% │ canary v4 50%"), { timeout: 10_000 });
    await saveState(test.database, release, promotedState(), { transitions: [{ at: RELEASE_T0 + 30 * 60_000, from: "progressing", to: "promoted", weight: 100, reason: "version 4 serves all traffic" }] });
    const result = await watch.result;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`\\n${CLOCK} {2}progressing → ✔ promoted {2}100% {2}version 4 serves all traffic\\n${CLOCK} {2}stable v4 ████████████████████ 100%\\n`));
    expect(result.stdout.endsWith(`\n✔ release ${release.releaseId} promoted: version 4 serves all traffic\n`)).toBe(true);
  });

  it("watching a release that ended otherwise exits 1 at once", async () => {
    const release = await startRelease(test.database);
    await saveState(test.database, release, rolledBackState());
    const result = await cli(["release", "status", String(release.releaseId), "--watch"]);
    expect(result.code).toBe(1);
    expect(result.stdout.endsWith(`\n↩ rolled back release ${release.releaseId}: analysis failed 1 times (error-rate 7% > 1%)\n`)).toBe(true);
  });

  it("refuses bad arguments with exit 2 and prints its help", async () => {
    const cases: Array<[string[], string]> = [
      [["release", "deploy", "1"], "unknown release command 'deploy'"],
      [["release", "status"], "gust release status needs a release ID"],
      [["release", "promote", "x"], "release ID must be a positive whole number, got 'x'"],
      [["release", "status", "1", "--interval", "0"], "--interval expects a number of seconds above 0, got '0'"],
      [["release", "status", "1", "--watch", "--json"], "--json shows the release once"],
      [["release", "pause", "1", "--full"], "Unknown option '--full'"],
      [["release", "list", "acme/app"], "gust release list takes no arguments"],
    ];
    for (const [args, message] of cases) {
      const result = await cli(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).toContain(message);
    }
    const help = await cli(["release", "status", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: gust release <command>/);
    expect(help.stdout).toContain("--server URL");
    expect((await cli(["--help"])).stdout).toMatch(/^ {2}release list\|status ID/m);
  });
});
