// LocalExecutor beyond the shared contract: workspaces, processes left behind, artifacts, cache,
// long and split output.
import { lstat, mkdir, readdir, readFile, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ARTIFACT_MANIFEST, LocalExecutor, pruneExpiredArtifacts, type ArtifactManifest } from "../../src/executors/local/index";
import type { JobPartial } from "../contract/job-defaults";
import { JobRecorder } from "../contract/job-recorder";
import { createLocalHarness, gitIn, isProcessRunning, useLocalHarness, type LocalHarness } from "./local-harness";

describe("LocalExecutor", () => {
  const local = useLocalHarness();
  const run = local.run;
  let harness: LocalHarness;
  beforeAll(() => {
    harness = local.harness();
  });

  async function newDir(name: string): Promise<string> {
    const dir = path.join(harness.root, name);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  describe("workspace", () => {
    it("copies what git would commit from a work tree: not ignored files, not .git; .gust/ pipelines too", async () => {
      const repo = await newDir("repo-ignore");
      gitIn(repo, "init", "--quiet");
      await writeFile(path.join(repo, ".gitignore"), "node_modules/\n*.log\n");
      await writeFile(path.join(repo, "tracked.txt"), "tracked\n");
      await writeFile(path.join(repo, "deleted.txt"), "gone soon\n");
      await mkdir(path.join(repo, "src"));
      await writeFile(path.join(repo, "src", "run.sh"), "#!/bin/sh\necho run\n", { mode: 0o755 });
      gitIn(repo, "add", ".");
      gitIn(repo, "commit", "--quiet", "-m", "first");
      await rm(path.join(repo, "deleted.txt")); // still listed by git ls-files, must be skipped
      await writeFile(path.join(repo, "untracked.txt"), "untracked\n");
      await symlink("tracked.txt", path.join(repo, "link.txt"));
      await mkdir(path.join(repo, "node_modules", "dep"), { recursive: true });
      await writeFile(path.join(repo, "node_modules", "dep", "index.js"), "module.exports = 1;\n");
      await writeFile(path.join(repo, "debug.log"), "noise\n");
      await mkdir(path.join(repo, ".gust"));
      await writeFile(path.join(repo, ".gust", "deploy.yml"), "jobs: {}\n");

      const { job, outcome, recorder } = await run({
        workspace: { kind: "directory", path: repo },
        steps: [{ script: "find . -type f -o -type l | sort; ./src/run.sh" }],
      });
      expect(outcome.status).toBe("success");
      expect(recorder.lines(0)).toEqual([
        "./.gitignore",
        "./.gust/deploy.yml",
        "./link.txt",
        "./src/run.sh",
        "./tracked.txt",
        "./untracked.txt",
        "run",
      ]);
      const workspace = harness.workspaceOf(job);
      expect((await lstat(path.join(workspace, "link.txt"))).isSymbolicLink()).toBe(true);
      expect(await readlink(path.join(workspace, "link.txt"))).toBe("tracked.txt");
      expect(recorder.systemLines().some((line) => /^workspace: copied 6 files/.test(line))).toBe(true);
    });

    it("copies a plain directory whole, leaving out the executor's own directories", async () => {
      const dir = await newDir("plain");
      await mkdir(path.join(dir, "node_modules"));
      await writeFile(path.join(dir, "node_modules", "x.js"), "x\n");
      await writeFile(path.join(dir, "a.txt"), "a\n");
      await mkdir(path.join(dir, ".gust"));
      await writeFile(path.join(dir, ".gust", "ci.yml"), "jobs: {}\n");
      const { outcome, recorder } = await run({
        workspace: { kind: "directory", path: dir },
        steps: [{ script: "find . -type f | sort" }],
      });
      expect(outcome.status).toBe("success");
      expect(recorder.lines(0)).toEqual(["./.gust/ci.yml", "./a.txt", "./node_modules/x.js"]);
    });

    it("never copies the executor's own directories when they lie inside the source", async () => {
      const dir = await newDir("self-contained");
      await writeFile(path.join(dir, "a.txt"), "a\n");
      const executor = new LocalExecutor({
        workRoot: path.join(dir, "work"),
        artifactsDir: path.join(dir, "artifacts"),
        cacheDir: path.join(dir, "cache"),
      });
      await mkdir(path.join(dir, "cache", "old"), { recursive: true });
      await writeFile(path.join(dir, "cache", "old", "big.bin"), "cached\n");
      const job = harness.makeJob({ workspace: { kind: "directory", path: dir }, steps: [{ script: "find . -type f | sort" }] });
      const recorder = new JobRecorder();
      const handle = await executor.start(job, recorder.listener);
      expect((await handle.wait()).status).toBe("success");
      expect(recorder.lines(0)).toEqual(["./a.txt"]);
      await handle.cleanup();
      await executor.close();
    });

    it("checks out a given commit of a git repository, with .git for the steps", async () => {
      const repo = await newDir("repo-checkout");
      gitIn(repo, "init", "--quiet");
      await writeFile(path.join(repo, "version.txt"), "one\n");
      gitIn(repo, "add", ".");
      gitIn(repo, "commit", "--quiet", "-m", "one");
      const first = gitIn(repo, "rev-parse", "HEAD");
      await writeFile(path.join(repo, "version.txt"), "two\n");
      await writeFile(path.join(repo, "uncommitted.txt"), "not in any commit\n");
      gitIn(repo, "commit", "--quiet", "-am", "two");

      const { outcome, recorder } = await run({
        workspace: { kind: "git", repository: repo, commit: first },
        steps: [{ script: "cat version.txt; git rev-parse HEAD; ls" }],
      });
      expect(outcome.status).toBe("success");
      expect(recorder.lines(0)).toEqual(["one", first, "version.txt"]);
      expect(recorder.systemLines().some((line) => line.startsWith(`workspace: checked out ${first}`))).toBe(true);
    });

    it("turns an impossible checkout into an error outcome, not a step failure", async () => {
      const { outcome, recorder } = await run({
        workspace: { kind: "git", repository: path.join(harness.root, "no-such-repo"), commit: "abc" },
        steps: [{ script: "echo never" }, { script: "echo never", when: { onSuccess: true, onFailure: true } }],
      });
      expect(outcome.status).toBe("error");
      expect(outcome.error).toMatchObject({ code: "git_clone_failed", retryable: true });
      expect(outcome.error?.message).toMatch(/no-such-repo/);
      expect(outcome.steps.map((step) => step.status)).toEqual(["skipped", "skipped"]);
      expect(recorder.started(0)).toBe(false);
    });

    it("reports a missing source directory as an error outcome", async () => {
      const { outcome } = await run({
        workspace: { kind: "directory", path: path.join(harness.root, "missing") },
        steps: [{ script: "true" }],
      });
      expect(outcome).toMatchObject({ status: "error", error: { code: "workspace_source_missing", retryable: false } });
    });

    it("removes the workspace at cleanup, unless told to keep it", async () => {
      const job = harness.makeJob({ steps: [{ script: "echo hi > file" }] });
      const handle = await harness.executor.start(job, () => {});
      await handle.wait();
      const workspace = harness.workspaceOf(job);
      expect((await stat(workspace)).isDirectory()).toBe(true);
      await handle.cleanup();
      await expect(stat(workspace)).rejects.toThrow();

      const keeping = await createLocalHarness({ keepWorkspaces: true });
      try {
        const kept = keeping.makeJob({ steps: [{ script: "echo hi > file" }] });
        const keptHandle = await keeping.executor.start(kept, () => {});
        await keptHandle.wait();
        await keptHandle.cleanup();
        expect(await readFile(path.join(keeping.workspaceOf(kept), "file"), "utf8")).toBe("hi\n");
      } finally {
        await keeping.teardown();
      }
    });

    it("says once that images and services are not used locally", async () => {
      const { recorder } = await run({
        image: "node:20",
        services: [{ name: "postgres", image: "postgres:16", env: {}, ports: [5432] }],
        steps: [{ script: "true" }],
      });
      const notes = recorder.systemLines().filter((line) => line.startsWith("local executor:"));
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatch(/node:20/);
      expect(notes[0]).toMatch(/postgres/);
    });
  });

  describe("processes", () => {
    it("keeps background processes for later steps and kills them at the end of the job", async () => {
      const { job, outcome, recorder } = await run({
        steps: [
          { script: "sleep 30 >/dev/null 2>&1 & echo $! > quiet.pid" },
          { script: "sleep 30 & echo $! > loud.pid" }, // still holds the step's output pipes
          { script: 'kill -0 "$(cat quiet.pid)" && kill -0 "$(cat loud.pid)" && echo both-alive' },
        ],
      });
      expect(outcome.status).toBe("success");
      expect(recorder.lines(2)).toEqual(["both-alive"]);
      for (const file of ["quiet.pid", "loud.pid"]) {
        const pid = Number(await harness.readWorkspaceFile(job, file));
        expect(pid).toBeGreaterThan(0);
        expect(await isProcessRunning(pid), file).toBe(false);
      }
    });

    it("kills background processes that ignore SIGTERM at the end of the job", async () => {
      const { job, outcome } = await run({
        steps: [{ script: "(trap '' TERM; exec sleep 30) >/dev/null 2>&1 & echo $! > stubborn.pid" }],
      });
      expect(outcome.status).toBe("success");
      const pid = Number(await harness.readWorkspaceFile(job, "stubborn.pid"));
      expect(await isProcessRunning(pid)).toBe(false);
    });

    it("fails a step that cannot be started, with the reason, and goes on with the contract", async () => {
      const { outcome, recorder } = await run({
        steps: [{ script: "true", env: { BAD: "nul\u0000byte" } }, { script: "echo after", when: { onSuccess: true, onFailure: true } }],
      });
      expect(outcome).toMatchObject({ status: "failure", failedStep: 0, exitCode: null });
      expect(recorder.stepFinished(0).reason).toMatch(/could not start the step/);
      expect(recorder.lines(1)).toEqual(["after"]);
    });

    it("cancels running jobs when the executor closes", async () => {
      const closing = await createLocalHarness();
      try {
        const job = closing.makeJob({ steps: [{ script: "echo ready; sleep 30" }] });
        const recorder = new JobRecorder();
        const handle = await closing.executor.start(job, recorder.listener);
        await recorder.waitForLine("ready");
        await closing.executor.close();
        expect((await handle.wait()).status).toBe("cancelled");
        await expect(closing.executor.start(closing.makeJob({ steps: [{ script: "true" }] }), () => {})).rejects.toThrow(
          /closed/,
        );
      } finally {
        await closing.teardown();
      }
    });
  });

  describe("host environment", () => {
    it("gives steps only the harmless host variables by default, all of them when asked", async () => {
      process.env.GUST_TEST_SERVER_SECRET = "master-key-of-the-server";
      process.env.LC_TEST_LOCALE = "C.UTF-8";
      const script = 'echo "secret=${GUST_TEST_SERVER_SECRET:-unset} locale=${LC_TEST_LOCALE:-unset} path=${PATH:+set}"';
      try {
        const minimal = await run({ steps: [{ script }] });
        expect(minimal.recorder.lines(0)).toEqual(["secret=unset locale=C.UTF-8 path=set"]);
        const everything = await createLocalHarness({ hostEnvironment: "all" });
        try {
          const job = everything.makeJob({ steps: [{ script }] });
          const recorder = new JobRecorder();
          const handle = await everything.executor.start(job, recorder.listener);
          await handle.wait();
          await handle.cleanup();
          expect(recorder.lines(0)).toEqual(["secret=master-key-of-the-server locale=C.UTF-8 path=set"]);
        } finally {
          await everything.teardown();
        }
      } finally {
        delete process.env.GUST_TEST_SERVER_SECRET;
        delete process.env.LC_TEST_LOCALE;
      }
    });
  });

  describe("output", () => {
    it("cuts lines longer than 64 KiB into 64 KiB pieces", async () => {
      const { recorder } = await run({
        steps: [{ script: "head -c 200000 /dev/zero | tr '\\0' x; echo; echo after" }],
      });
      const lines = recorder.lines(0);
      expect(lines.map((line) => line.length)).toEqual([65536, 65536, 65536, 200000 - 3 * 65536, 5]);
      expect(lines.slice(0, 4).join("")).toBe("x".repeat(200000));
      expect(lines[4]).toBe("after");
    });

    it("decodes a UTF-8 character split across two writes", async () => {
      const { recorder } = await run({ steps: [{ script: "printf '\\342\\202'; sleep 0.3; printf '\\254 euro\\n'" }] });
      expect(recorder.lines(0)).toEqual(["€ euro"]);
    });
  });

  describe("artifacts", () => {
    it("hands a successful job's files to a later job of the same pipeline run", async () => {
      const pipelineRunId = "pipeline-artifacts";
      const build = await run({
        pipelineRunId,
        jobKey: "build",
        artifacts: { paths: ["dist", "reports/*.txt", "!dist/**/*.map"], expireInMs: 3_600_000 },
        steps: [
          {
            script: [
              "mkdir -p dist/sub reports",
              "echo app > dist/app.js",
              "echo map > dist/app.js.map",
              "echo deep > dist/sub/deep.txt",
              "echo report > reports/r.txt",
              "echo other > other.txt",
            ].join("; "),
          },
        ],
      });
      expect(build.outcome.status).toBe("success");
      const stored = path.join(harness.dirs.artifactsDir, pipelineRunId, "build");
      const manifest = JSON.parse(await readFile(path.join(stored, ARTIFACT_MANIFEST), "utf8")) as ArtifactManifest;
      expect(manifest.files).toEqual(["dist/app.js", "dist/sub/deep.txt", "reports/r.txt"]);
      expect(manifest.bytes).toBe("app\n".length + "deep\n".length + "report\n".length);
      expect(Date.parse(manifest.expiresAt ?? "") - Date.parse(manifest.createdAt)).toBe(3_600_000);
      expect(build.recorder.systemLines().some((line) => line.startsWith("artifacts: saved 3 files"))).toBe(true);

      const test = await run({
        pipelineRunId,
        jobKey: "test",
        artifactsFrom: ["build", "lint"],
        steps: [{ script: `find . -type f | sort; cat dist/app.js; test ! -e ${ARTIFACT_MANIFEST}` }],
      });
      expect(test.outcome.status).toBe("success");
      expect(test.recorder.lines(0)).toEqual(["./dist/app.js", "./dist/sub/deep.txt", "./reports/r.txt", "app"]);
      const system = test.recorder.systemLines();
      expect(system.some((line) => /warning.*lint/.test(line))).toBe(true);
      expect(system.some((line) => line.startsWith("artifacts: restored 3 files"))).toBe(true);

      const elsewhere = await run({ artifactsFrom: ["build"], steps: [{ script: "test ! -e dist" }] });
      expect(elsewhere.outcome.status).toBe("success"); // another pipeline run sees nothing
    });

    it("publishes nothing when the job fails", async () => {
      const { job } = await run({
        jobKey: "broken",
        artifacts: { paths: ["out.txt"] },
        steps: [{ script: "echo out > out.txt; exit 1" }],
      });
      await expect(stat(path.join(harness.dirs.artifactsDir, job.pipelineRunId, "broken"))).rejects.toThrow();
    });

    it("prunes expired artifacts only", async () => {
      const artifactsDir = await newDir("prune-artifacts");
      const write = async (run: string, job: string, expiresAt: string | null): Promise<void> => {
        const dir = path.join(artifactsDir, run, job);
        await mkdir(dir, { recursive: true });
        await writeFile(path.join(dir, "file.txt"), "x");
        const manifest = { files: ["file.txt"], bytes: 1, createdAt: new Date(0).toISOString(), expiresAt };
        await writeFile(path.join(dir, ARTIFACT_MANIFEST), JSON.stringify(manifest));
      };
      const now = Date.parse("2030-01-01T00:00:00Z");
      await write("p1", "old", new Date(now - 1000).toISOString());
      await write("p1", "fresh", new Date(now + 1000).toISOString());
      await write("p2", "old", new Date(now).toISOString());
      await write("p3", "forever", null);

      expect((await pruneExpiredArtifacts(artifactsDir, now)).sort()).toEqual(["p1/old", "p2/old"]);
      expect((await readdir(artifactsDir)).sort()).toEqual(["p1", "p3"]);
      expect(await readdir(path.join(artifactsDir, "p1"))).toEqual(["fresh"]);
      expect(await pruneExpiredArtifacts(artifactsDir, now)).toEqual([]);
      expect(await pruneExpiredArtifacts(path.join(artifactsDir, "none"), now)).toEqual([]);
    });

    it("prunes what a job published once it expired", async () => {
      const { job } = await run({
        jobKey: "short-lived",
        artifacts: { paths: ["a.txt"], expireInMs: 60_000 },
        steps: [{ script: "echo a > a.txt" }],
      });
      expect(await pruneExpiredArtifacts(harness.dirs.artifactsDir, Date.now())).not.toContain(
        `${job.pipelineRunId}/short-lived`,
      );
      expect(await pruneExpiredArtifacts(harness.dirs.artifactsDir, Date.now() + 120_000)).toContain(
        `${job.pipelineRunId}/short-lived`,
      );
    });
  });

  describe("cache", () => {
    const savedKey = (recorder: JobRecorder): string | undefined =>
      recorder
        .systemLines()
        .map((line) => /^cache: saved (\S+) \(\d+ files\)$/.exec(line)?.[1])
        .find((key) => key !== undefined);

    it("misses, saves, restores the exact key, then falls back to a restore key", async () => {
      const source = await newDir("cache-source");
      await writeFile(path.join(source, "lock.txt"), "v1\n");
      const cacheJob = (script: string): JobPartial => ({
        workspace: { kind: "directory", path: source },
        cache: { key: ["deps-", { hashFiles: ["lock.txt"] }], restoreKeys: ["deps-"], paths: ["deps"] },
        steps: [{ script }],
      });
      const install = 'if [ -e deps/lib.txt ]; then echo "cached $(cat deps/lib.txt)"; else mkdir -p deps; cat lock.txt > deps/lib.txt; echo installed; fi';

      const first = await run(cacheJob(install));
      expect(first.recorder.lines(0)).toEqual(["installed"]);
      expect(first.recorder.systemLines()).toContain(`cache: miss for ${savedKey(first.recorder)}`);
      const key1 = savedKey(first.recorder);
      expect(key1).toMatch(/^deps-[0-9a-f]{64}$/);

      const second = await run(cacheJob(install));
      expect(second.recorder.lines(0)).toEqual(["cached v1"]);
      expect(second.recorder.systemLines().some((line) => line.startsWith(`cache: restored ${key1}`))).toBe(true);
      expect(savedKey(second.recorder)).toBeUndefined(); // entries are immutable

      await writeFile(path.join(source, "lock.txt"), "v2\n");
      const third = await run(cacheJob(install));
      expect(third.recorder.lines(0)).toEqual(["cached v1"]); // the older entry, by prefix
      expect(third.recorder.systemLines().some((line) => line.startsWith(`cache: restored ${key1}`))).toBe(true);
      const key2 = savedKey(third.recorder);
      expect(key2).toMatch(/^deps-[0-9a-f]{64}$/);
      expect(key2).not.toBe(key1);
    });

    it("hashes files to the empty string when none match, and to the same hash for the same content", async () => {
      const keyOf = async (files: Record<string, string>): Promise<string | undefined> => {
        const source = await newDir(`hash-${Math.random().toString(36).slice(2)}`);
        for (const [name, content] of Object.entries(files)) await writeFile(path.join(source, name), content);
        const { recorder } = await run({
          workspace: { kind: "directory", path: source },
          cache: { key: ["k-", { hashFiles: ["*.lock"] }, "-end"], restoreKeys: [], paths: ["out"] },
          steps: [{ script: "mkdir -p out; echo x > out/x" }],
        });
        return savedKey(recorder);
      };
      const none = await keyOf({ "readme.md": "hi" });
      expect(none).toBe("k--end");
      const a = await keyOf({ "a.lock": "1", "b.lock": "2" });
      const sameAgain = await keyOf({ "a.lock": "1", "b.lock": "2", "c.txt": "ignored" });
      const different = await keyOf({ "a.lock": "1", "b.lock": "3" });
      expect(a).toMatch(/^k-[0-9a-f]{64}-end$/);
      // Same key: already saved by the first of the two, so the second saves nothing.
      expect(sameAgain).toBeUndefined();
      expect(different).not.toBe(a);
    });

    it("tries restore keys in order and takes the newest entry for a prefix", async () => {
      const save = (key: string, value: string): Promise<unknown> =>
        run({
          cache: { key: [key], restoreKeys: [], paths: ["value.txt"] },
          steps: [{ script: `echo ${value} > value.txt` }],
        });
      await save("order-a-1", "a1");
      await save("order-b-1", "b1");
      await save("order-b-2", "b2");
      const restore = (restoreKeys: string[]): Promise<{ recorder: JobRecorder }> =>
        run({
          cache: { key: ["order-miss"], restoreKeys, paths: ["nothing"] },
          steps: [{ script: "cat value.txt 2>/dev/null || echo none" }],
        });
      expect((await restore(["order-b-", "order-a-"])).recorder.lines(0)).toEqual(["b2"]);
      expect((await restore(["order-c-", "order-a-"])).recorder.lines(0)).toEqual(["a1"]);
      expect((await restore(["order-c-"])).recorder.lines(0)).toEqual(["none"]);
    });

    it("lets concurrent jobs save the same key without corrupting it", async () => {
      const partial: JobPartial = {
        cache: { key: ["race-1"], restoreKeys: [], paths: ["data"] },
        steps: [{ script: "mkdir -p data; i=0; while [ $i -lt 50 ]; do echo $i > data/f$i; i=$((i+1)); done" }],
      };
      const results = await Promise.all([run(partial), run(partial), run(partial)]);
      for (const result of results) expect(result.outcome.status).toBe("success");
      const entries = await readdir(harness.dirs.cacheDir);
      expect(entries.filter((entry) => entry.startsWith("."))).toEqual([]); // no temp dirs left
      const restored = await run({
        cache: { key: ["race-1"], restoreKeys: [], paths: ["data"] },
        steps: [{ script: "ls data | wc -l" }],
      });
      expect(restored.recorder.lines(0).map((line) => line.trim())).toEqual(["50"]);
    });

    it("does not save after a failed job", async () => {
      const failed = await run({
        cache: { key: ["failed-1"], restoreKeys: [], paths: ["x"] },
        steps: [{ script: "echo x > x; exit 1" }],
      });
      expect(savedKey(failed.recorder)).toBeUndefined();
      const next = await run({
        cache: { key: ["failed-1"], restoreKeys: [], paths: ["x"] },
        steps: [{ script: "test ! -e x" }],
      });
      expect(next.outcome.status).toBe("success");
    });
  });
});
