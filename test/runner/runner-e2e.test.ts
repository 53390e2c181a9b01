// `gust-runner prepare` and `finish` end to end on this machine, as a pod runs them: the bundled
// program, a real runner API listener, a git server over HTTP with basic auth, the pod's volumes in
// temp dirs. Source at a commit (also from a server that refuses fetching by id, with submodules,
// or as an archive from Gust), artifacts from one job to the next, the cache saved and restored (by
// key and by restore prefix), nothing published after a failure, services stopped, failures
// reported in the termination log.
import { spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveCacheKey } from "../../src/executors/local/cache";
import type { RunnerConfig } from "../../src/runner/runner-config";
import { startGitHttpServer, type GitHttpServer } from "../helpers/git-http-server";
import { baseConfig, gitIn, installRunner, makePod, spawnCollect, startRunnerApi, type RunnerApiListener } from "./runner-harness";

const AUTH = { username: "x-access-token", password: "s3cret-token-value" };
let root: string;
let installed: { bundle: string; toolsSource: string };
let api: RunnerApiListener;
let gitServer: GitHttpServer;
let strictServer: GitHttpServer;
let repo: string;
let first: string;
let second: string;
let pods = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "gust-runner-e2e-"));
  installed = await installRunner(path.join(root, "image"));
  api = await startRunnerApi(path.join(root, "data"));
  repo = path.join(root, "repos", "app");
  await mkdir(path.join(repo, "src"), { recursive: true });
  gitIn(repo, "init", "--quiet", "--initial-branch=main");
  await writeFile(path.join(repo, "src", "version.txt"), "one\n");
  await writeFile(path.join(repo, "package-lock.json"), '{"lockfileVersion":3}\n');
  gitIn(repo, "add", ".");
  gitIn(repo, "commit", "--quiet", "-m", "one");
  first = gitIn(repo, "rev-parse", "HEAD");
  await writeFile(path.join(repo, "src", "version.txt"), "two\n");
  gitIn(repo, "commit", "--quiet", "-am", "two");
  second = gitIn(repo, "rev-parse", "HEAD");
  gitServer = await startGitHttpServer({ root: path.join(root, "repos"), auth: AUTH });
  strictServer = await startGitHttpServer({ root: path.join(root, "repos"), auth: AUTH, protocolV2: false });
});

afterAll(async () => {
  await Promise.all([api?.close(), gitServer?.close(), strictServer?.close()]);
  await rm(root, { recursive: true, force: true });
});

function gitSource(server: GitHttpServer, commit: string, password = AUTH.password): RunnerConfig["source"] {
  return { kind: "git", url: `${server.url}/app`, commit, ref: "refs/heads/main", depth: 1, submodules: false, auth: { username: AUTH.username, password } };
}

async function pod(job: string, overrides: Partial<RunnerConfig> & { needs?: string[] } = {}) {
  const { needs = [], ...config } = overrides;
  return makePod(path.join(root, `pod-${++pods}`), installed, baseConfig(api, api.token({ job, needs }), { artifactsFrom: needs, ...config }));
}

/** What a step does in the pod: files in the workspace, then its done-file (and `failed`). */
async function step(target: { tools: string; workspace: string }, files: Record<string, string>, options: { fails?: boolean } = {}): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(target.workspace, name)), { recursive: true });
    await writeFile(path.join(target.workspace, name), content);
  }
  if (options.fails) await writeFile(path.join(target.tools, "state", "failed"), "");
  await writeFile(path.join(target.tools, "state", "0.done"), "");
}

describe("prepare: tools and source", () => {
  it("installs the tools and checks out the commit over HTTP with basic auth, keeping the credentials out of .git", async () => {
    gitServer.requests.length = 0;
    const p = await pod("checkout", { source: gitSource(gitServer, first) });
    const result = await p.run("prepare");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^source: checked out ${first} from ${gitServer.url}/app in `, "m"));
    expect(await readFile(path.join(p.workspace, "src", "version.txt"), "utf8")).toBe("one\n");
    expect(gitIn(p.workspace, "rev-parse", "HEAD")).toBe(first);
    expect(gitIn(p.workspace, "status", "--porcelain")).toBe("");
    const gitDir = await readFile(path.join(p.workspace, ".git", "config"), "utf8");
    expect(gitDir).not.toContain(AUTH.password);
    expect(gitDir).not.toContain(Buffer.from(`${AUTH.username}:${AUTH.password}`).toString("base64"));
    expect(gitServer.requests.length).toBeGreaterThan(0);
    expect(gitServer.requests.every((request) => request.authorized)).toBe(true);

    expect((await stat(path.join(p.tools, "bin", "busybox"))).mode & 0o777).toBe(0o755);
    expect((await stat(path.join(p.tools, "bin", "gust-step"))).mode & 0o777).toBe(0o755);
    expect((await stat(path.join(p.tools, "state"))).mode & 0o777).toBe(0o777);
  });

  it("falls back to fetching the ref, deepened, when the server refuses a commit by id", async () => {
    const p = await pod("strict", { source: gitSource(strictServer, first) });
    const result = await p.run("prepare");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`source: fetching ${first} by id failed`);
    expect(result.stdout).toContain("fetching its whole history");
    expect(gitIn(p.workspace, "rev-parse", "HEAD")).toBe(first);
    expect(await readFile(path.join(p.workspace, "src", "version.txt"), "utf8")).toBe("one\n");
  });

  it("checks out submodules when asked, through the same authenticated server", async () => {
    const lib = path.join(root, "repos", "lib");
    await mkdir(lib, { recursive: true });
    gitIn(lib, "init", "--quiet", "--initial-branch=main");
    await writeFile(path.join(lib, "lib.txt"), "library\n");
    gitIn(lib, "add", ".");
    gitIn(lib, "commit", "--quiet", "-m", "lib");
    const superproject = path.join(root, "repos", "super");
    await mkdir(superproject, { recursive: true });
    gitIn(superproject, "init", "--quiet", "--initial-branch=main");
    gitIn(superproject, "-c", "protocol.file.allow=always", "submodule", "--quiet", "add", lib, "vendor/lib");
    // Relative to the superproject's URL, as on a forge: resolved against the URL the pod cloned.
    gitIn(superproject, "config", "-f", ".gitmodules", "submodule.vendor/lib.url", "../lib");
    gitIn(superproject, "add", ".gitmodules");
    gitIn(superproject, "commit", "--quiet", "-m", "with lib");
    const commit = gitIn(superproject, "rev-parse", "HEAD");
    const source = { ...gitSource(gitServer, commit), url: `${gitServer.url}/super`, submodules: true };
    const p = await pod("submodules", { source });
    const result = await p.run("prepare");
    expect(result.code).toBe(0);
    expect(await readFile(path.join(p.workspace, "vendor", "lib", "lib.txt"), "utf8")).toBe("library\n");
  });

  it("fails with a one-line reason in the termination log when the credentials are wrong", async () => {
    const p = await pod("denied", { source: gitSource(gitServer, second, "wrong") });
    const result = await p.run("prepare");
    expect(result.code).toBe(1);
    expect(result.termination).toMatch(/^gust-runner prepare: git fetch failed: .*\n$/);
    expect(result.termination.trim().split("\n")).toHaveLength(1);
    expect(result.termination).not.toContain("wrong");
  });

  it("unpacks an archive source served by Gust", async () => {
    const dir = path.join(root, "plain");
    await mkdir(path.join(dir, "lib"), { recursive: true });
    await writeFile(path.join(dir, "lib", "a.txt"), "from a directory\n");
    await writeFile(path.join(dir, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
    const p = await makePod(path.join(root, `pod-${++pods}`), installed, baseConfig(api, api.token({ job: "archive", source: { kind: "directory", path: dir } })));
    const result = await p.run("prepare");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^source: unpacked 2 files/m);
    expect(await readFile(path.join(p.workspace, "lib", "a.txt"), "utf8")).toBe("from a directory\n");
    expect((await stat(path.join(p.workspace, "run.sh"))).mode & 0o111).toBe(0o111);
  });

  it("refuses a runner.json it cannot follow, naming the field", async () => {
    const p = await makePod(path.join(root, `pod-${++pods}`), installed, { ...baseConfig(api, "t"), lastStep: -1 });
    const result = await p.run("prepare");
    expect(result.code).toBe(1);
    expect(result.termination).toContain("lastStep must be a step index");
  });
});

describe("artifacts", () => {
  it("hands job A's artifacts to job B's workspace, and publishes nothing from a failed job", async () => {
    const a = await pod("build", { source: gitSource(gitServer, second), artifacts: { paths: ["dist/**"] } });
    expect((await a.run("prepare")).code).toBe(0);
    // finish waits for the last step's done-file, which the step writes while finish is running.
    const finishing = a.run("finish");
    await step(a, { "dist/app.js": "built\n", "dist/sub/map.json": "{}\n", "tmp/other.txt": "not an artifact\n" });
    const finished = await finishing;
    expect(finished.stderr).toBe("");
    expect(finished.stdout).toMatch(/^artifacts: saved 2 files \(/m);

    const b = await pod("test", { needs: ["build", "lint"], source: gitSource(gitServer, second) });
    const prepared = await b.run("prepare");
    expect(prepared.code).toBe(0);
    expect(prepared.stdout).toMatch(/^artifacts: restored 2 files \(.*\) from build$/m);
    expect(prepared.stdout).toContain("artifacts: warning: no artifacts from lint in this pipeline run");
    expect(await readFile(path.join(b.workspace, "dist", "app.js"), "utf8")).toBe("built\n");
    expect(await readFile(path.join(b.workspace, "dist", "sub", "map.json"), "utf8")).toBe("{}\n");
    await expect(stat(path.join(b.workspace, "tmp"))).rejects.toThrow();

    const failed = await pod("lint", { artifacts: { paths: ["report/**"] }, source: gitSource(gitServer, second) });
    expect((await failed.run("prepare")).code).toBe(0);
    await step(failed, { "report/out.txt": "lint output\n" }, { fails: true });
    const finishedFailed = await failed.run("finish");
    expect(finishedFailed.code).toBe(0);
    expect(finishedFailed.stdout).toContain("finish: the job failed; no artifacts or cache saved");
    const c = await pod("after-lint", { needs: ["lint"], source: gitSource(gitServer, second) });
    expect((await c.run("prepare")).stdout).toContain("artifacts: warning: no artifacts from lint in this pipeline run");
  });
});

describe("cache", () => {
  const cache = { key: ["deps-", { hashFiles: ["package-lock.json"] }], restoreKeys: ["deps-"], paths: ["node_modules"] };

  it("saves after a miss, restores by exact key (no second save), and by restore key for a new key", async () => {
    const p1 = await pod("cache-1", { source: gitSource(gitServer, second), cache });
    const key = await resolveCacheKey(cache.key, repo); // the lock file is the same in the repository and at `second`
    const twin = await pod("cache-1-twin", { source: gitSource(gitServer, second), cache });
    const miss = await p1.run("prepare");
    expect(miss.stdout).toContain(`cache: miss for ${key}`);
    expect((await twin.run("prepare")).stdout).toContain(`cache: miss for ${key}`);
    await step(p1, { "node_modules/dep/index.js": "dep v1\n" });
    expect((await p1.run("finish")).stdout).toContain(`cache: saved ${key} (1 files)`);
    // The same key saved meanwhile by another job: the first entry stays.
    await step(twin, { "node_modules/dep/index.js": "twin\n" });
    const late = await twin.run("finish");
    expect(late.code).toBe(0);
    expect(late.stdout).toContain(`cache: ${key} already saved`);

    const p2 = await pod("cache-2", { source: gitSource(gitServer, second), cache });
    expect((await p2.run("prepare")).stdout).toMatch(new RegExp(`^cache: restored ${key} \\(1 files\\)$`, "m"));
    expect(await readFile(path.join(p2.workspace, "node_modules", "dep", "index.js"), "utf8")).toBe("dep v1\n");
    await step(p2, { "node_modules/dep/index.js": "changed\n" });
    expect((await p2.run("finish")).stdout).not.toContain("cache:");

    // A changed lock file, arriving as an artifact (the key is resolved after artifacts are in, as
    // locally): a new key, restored from the old entry by prefix, then saved under the new key.
    await publishArtifact("lockfile", { "package-lock.json": '{"lockfileVersion":3,"changed":true}\n' });
    const p3 = await pod("cache-3", { source: gitSource(gitServer, second), cache, needs: ["lockfile"] });
    const restored = await p3.run("prepare");
    const newKey = await resolveCacheKey(cache.key, p3.workspace);
    expect(newKey).not.toBe(key);
    expect(restored.stdout).toContain(`cache: restored ${key} (1 files) for ${newKey}`);
    await step(p3, {});
    expect((await p3.run("finish")).stdout).toContain(`cache: saved ${newKey} (1 files)`);
  });
});

/** Publishes `files` as the artifacts of `job` through a finish run of its own pod. */
async function publishArtifact(job: string, files: Record<string, string>): Promise<void> {
  const p = await pod(job, { source: gitSource(gitServer, second), artifacts: { paths: Object.keys(files) } });
  expect((await p.run("prepare")).code).toBe(0);
  await step(p, files);
  expect((await p.run("finish")).code).toBe(0);
}

describe("services", () => {
  /** A prepared pod with services whose last step is done. */
  async function finishedPod(job: string) {
    const p = await pod(job, { stopServices: true, source: gitSource(gitServer, second) });
    expect((await p.run("prepare")).code).toBe(0);
    await step(p, {});
    return p;
  }

  function startService(script: string): { pid: number; exited: Promise<NodeJS.Signals | null> } {
    // Detached: its own process group, which the finish run is told to stop (never kill(-1) here).
    const child = spawn("sh", ["-c", script], { detached: true, stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    return { pid: child.pid!, exited };
  }

  it("stops the services with SIGTERM once the last step is done", async () => {
    const p = await finishedPod("services-term");
    const service = startService("exec sleep 1000");
    const result = await p.run("finish", { GUST_SERVICE_PIDS: String(-service.pid) });
    expect(result.code).toBe(0);
    expect(await service.exited).toBe("SIGTERM");
    expect(result.stdout).toContain("services: stopping (SIGTERM to 1 process)");
    expect(result.stdout).toContain("services: stopped");
  });

  it("sends SIGKILL to what ignores SIGTERM after the grace period", async () => {
    const p = await finishedPod("services-kill");
    const service = startService("trap '' TERM; sleep 1000 & wait");
    const result = await p.run("finish", { GUST_SERVICE_PIDS: String(-service.pid), GUST_SERVICE_GRACE_MS: "300" });
    expect(result.code).toBe(0);
    expect(await service.exited).toBe("SIGKILL");
    expect(result.stdout).toContain("still running after 300 ms; sending SIGKILL");
  });

  it.skipIf(!canUnsharePid())("signals every other process of its PID namespace (kill(-1)), as in a pod", async () => {
    const p = await finishedPod("services-namespace");
    const { argv, env } = p.command("finish");
    // PID 1 is this shell (the pod's pause process); the two sleeps are the services. The guard
    // makes sure kill(-1) can only ever run inside the new namespace.
    const script = [
      '[ "$$" = 1 ] || exit 99',
      "sleep 1000 & term=$!",
      "sh -c \"trap '' TERM; exec sleep 1000\" & kill=$!",
      '"$@"; finish=$?',
      "wait $term; t=$?",
      "wait $kill; k=$?",
      'echo "finish=$finish term=$t kill=$k"',
    ].join("\n");
    const result = await spawnCollect(["unshare", "--fork", "--pid", "--mount-proc", "sh", "-c", script, "sh", ...argv], { ...env, GUST_SERVICE_GRACE_MS: "300" });
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("services: stopping (SIGTERM to 2 processes)");
    expect(result.stdout).toMatch(/^finish=0 term=143 kill=137$/m);
  });
});

function canUnsharePid(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync("unshare", ["--fork", "--pid", "--mount-proc", "true"]).status === 0;
}
