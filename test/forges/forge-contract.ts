// The forge contract (src/forges/forge.ts, points 2–4, 7 and 8) as a vitest suite every Forge runs:
// describeForgeContract("github", async () => harness). GitHub and GitLab run against their
// loopback stand-ins, local against a temporary git repository.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForgeError } from "../../src/errors";
import type { Forge, JobStatusUpdate, PipelineStatusUpdate, ReportState } from "../../src/forges/forge";

export interface ShownReport {
  name: string;
  state: ReportState;
  /** Everything the forge shows in words: title, summary, log tail, description. */
  text: string;
}

export interface ForgeHarness {
  forge: Forge;
  repo: string;
  /** Makes a commit with exactly these files (on top of `parent`) and returns its sha. */
  commit(files: Record<string, string>, parent?: string): Promise<string>;
  /** Creates or moves a branch to a commit. */
  setBranch(name: string, sha: string): Promise<void>;
  /** A lightweight tag, or an annotated one (a tag object with this message) when `message` is given. */
  setTag(name: string, sha: string, message?: string): Promise<void>;
  /** Opens a pull/merge request that brings `head` onto `base`; returns its number. */
  openReview(base: string, head: string): Promise<number>;
  /** What the forge shows on the commit: one entry per visible check run / status. */
  shown(sha: string): Promise<ShownReport[]>;
  /** Whether the forge shows the failing step's log lines (GitLab statuses have one line only). */
  showsLogTail: boolean;
  teardown(): Promise<void>;
}

const PIPELINE = "ci";

function job(sha: string, overrides: Partial<JobStatusUpdate> = {}): JobStatusUpdate {
  return {
    sha,
    ref: "refs/heads/main",
    branch: "main",
    pipelineName: PIPELINE,
    jobKey: "test",
    jobName: "test",
    state: "queued",
    detailsUrl: "https://gust.example.com/pipelines/1/jobs/test",
    externalId: "job-1",
    ...overrides,
  };
}

export function describeForgeContract(name: string, setup: () => Promise<ForgeHarness>): void {
  describe(`forge contract: ${name}`, () => {
    let h: ForgeHarness;
    let first: string;
    let second: string;

    beforeAll(async () => {
      h = await setup();
      first = await h.commit({
        ".gust.yml": "jobs: {a: {steps: [{run: 'echo one'}]}}\n",
        ".gust/deploy.yml": "jobs: {d: {steps: [{run: 'echo deploy'}]}}\n",
        ".gust/release.yaml": "jobs: {r: {steps: [{run: 'echo release'}]}}\n",
        ".gust/notes.txt": "not a pipeline\n",
        ".gust/nested/deep.yml": "jobs: {}\n",
        "src/app.ts": "export const one = 1;\n",
        "README.md": "# demo\n",
      });
      second = await h.commit(
        {
          ".gust.yml": "jobs: {a: {steps: [{run: 'echo two'}]}}\n",
          "src/app.ts": "export const one = 2;\n",
          "src/new.ts": "export {};\n",
          "README.md": "# demo\n",
        },
        first,
      );
    });
    afterAll(async () => {
      await h?.teardown();
    });

    describe("files at a commit", () => {
      it("reads a file as it is at that commit, not at another", async () => {
        expect(await h.forge.readFile(h.repo, first, ".gust.yml")).toBe("jobs: {a: {steps: [{run: 'echo one'}]}}\n");
        expect(await h.forge.readFile(h.repo, second, ".gust.yml")).toBe("jobs: {a: {steps: [{run: 'echo two'}]}}\n");
        expect(await h.forge.readFile(h.repo, first, "src/new.ts")).toBeUndefined();
        expect(await h.forge.readFile(h.repo, second, "src/new.ts")).toBe("export {};\n");
      });

      it("answers undefined for a path that is not a file there", async () => {
        expect(await h.forge.readFile(h.repo, first, "missing.yml")).toBeUndefined();
        expect(await h.forge.readFile(h.repo, second, ".gust/deploy.yml")).toBeUndefined();
        expect(await h.forge.readFile(h.repo, first, "src")).toBeUndefined();
      });

      it("rejects with a non-retryable ForgeError for a commit that does not exist", async () => {
        const error = await h.forge.readFile(h.repo, "0123456789abcdef0123456789abcdef01234567", ".gust.yml").catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(ForgeError);
        expect(error).toMatchObject({ fault: "infrastructure", retryable: false, code: "forge_not_found" });
      });

      it("rejects for a repository that does not exist", async () => {
        const missing = h.repo.replace(/[^/]+$/, "no-such-repository");
        await expect(h.forge.readFile(missing, first, ".gust.yml")).rejects.toMatchObject({ retryable: false, code: "forge_not_found" });
        await expect(h.forge.listPipelineFiles(missing, first)).rejects.toMatchObject({ retryable: false, code: "forge_not_found" });
      });

      it("lists the pipeline files: the root file and .gust/*.yml|yaml, not deeper, with their text", async () => {
        expect(await h.forge.listPipelineFiles(h.repo, first)).toEqual([
          { path: ".gust.yml", text: "jobs: {a: {steps: [{run: 'echo one'}]}}\n" },
          { path: ".gust/deploy.yml", text: "jobs: {d: {steps: [{run: 'echo deploy'}]}}\n" },
          { path: ".gust/release.yaml", text: "jobs: {r: {steps: [{run: 'echo release'}]}}\n" },
        ]);
        expect(await h.forge.listPipelineFiles(h.repo, second)).toEqual([{ path: ".gust.yml", text: "jobs: {a: {steps: [{run: 'echo two'}]}}\n" }]);
      });

      it("lists nothing at a commit without pipeline files", async () => {
        const bare = await h.commit({ "README.md": "# none\n" }, second);
        expect(await h.forge.listPipelineFiles(h.repo, bare)).toEqual([]);
      });
    });

    describe("refs", () => {
      beforeAll(async () => {
        await h.setBranch("main", second);
        await h.setBranch("feature/login", first);
        await h.setTag("v1.0.0", first);
        await h.setTag("v2.0.0", second, "Release 2.0.0");
        await h.setBranch("both", first);
        await h.setTag("both", second);
      });

      it("resolves a branch by its name and by its full ref, slashes included", async () => {
        expect(await h.forge.resolveRef(h.repo, "main")).toEqual({ sha: second, ref: "refs/heads/main", branch: "main" });
        expect(await h.forge.resolveRef(h.repo, "refs/heads/main")).toEqual({ sha: second, ref: "refs/heads/main", branch: "main" });
        expect(await h.forge.resolveRef(h.repo, "feature/login")).toEqual({ sha: first, ref: "refs/heads/feature/login", branch: "feature/login" });
      });

      it("resolves lightweight and annotated tags to the commit they tag", async () => {
        expect(await h.forge.resolveRef(h.repo, "v1.0.0")).toEqual({ sha: first, ref: "refs/tags/v1.0.0", tag: "v1.0.0" });
        expect(await h.forge.resolveRef(h.repo, "v2.0.0")).toEqual({ sha: second, ref: "refs/tags/v2.0.0", tag: "v2.0.0" });
        expect(await h.forge.resolveRef(h.repo, "refs/tags/v2.0.0")).toEqual({ sha: second, ref: "refs/tags/v2.0.0", tag: "v2.0.0" });
      });

      it("looks a bare name up as a branch before a tag; a full ref says which", async () => {
        expect(await h.forge.resolveRef(h.repo, "both")).toEqual({ sha: first, ref: "refs/heads/both", branch: "both" });
        expect(await h.forge.resolveRef(h.repo, "refs/tags/both")).toEqual({ sha: second, ref: "refs/tags/both", tag: "both" });
      });

      it("resolves a commit by its full or abbreviated sha", async () => {
        expect(await h.forge.resolveRef(h.repo, first)).toEqual({ sha: first, ref: first });
        expect(await h.forge.resolveRef(h.repo, second.slice(0, 12))).toEqual({ sha: second, ref: second });
      });

      it("rejects what names no branch, tag or commit with a non-retryable forge_not_found", async () => {
        for (const ref of ["no-such-branch", "refs/heads/no-such-branch", "refs/tags/feature/login", "0123456789abcdef0123456789abcdef01234567", "a..b", "-rf"]) {
          const error = await h.forge.resolveRef(h.repo, ref).catch((caught: unknown) => caught);
          expect(error, ref).toBeInstanceOf(ForgeError);
          expect(error, ref).toMatchObject({ retryable: false, code: "forge_not_found" });
        }
      });

      it("names the default branch", async () => {
        expect(await h.forge.defaultBranch(h.repo)).toBe("main");
      });

      it("rejects refs and the default branch of a repository that does not exist", async () => {
        const missing = h.repo.replace(/[^/]+$/, "no-such-repository");
        await expect(h.forge.resolveRef(missing, "main")).rejects.toMatchObject({ retryable: false, code: "forge_not_found" });
        await expect(h.forge.defaultBranch(missing)).rejects.toMatchObject({ retryable: false, code: "forge_not_found" });
      });
    });

    describe("changed files", () => {
      it("lists what a push changed, added and removed", async () => {
        const changed = await h.forge.changedFiles(h.repo, {
          context: { event: "push", ref: "refs/heads/main", sha: second, branch: "main" },
          changes: { kind: "push", before: first, after: second },
        });
        expect([...(changed ?? [])].sort()).toEqual([".gust.yml", ".gust/deploy.yml", ".gust/nested/deep.yml", ".gust/notes.txt", ".gust/release.yaml", "src/app.ts", "src/new.ts"]);
      });

      it("lists what a pull/merge request changes", async () => {
        const number = await h.openReview(first, second);
        const changed = await h.forge.changedFiles(h.repo, {
          context: { event: "pull_request", ref: `refs/pull/${number}/head`, sha: second, branch: "feature", targetBranch: "main", action: "opened" },
          changes: { kind: "review", number, headSha: second, baseSha: first },
        });
        expect(changed).toContain("src/new.ts");
        expect(changed).toContain("src/app.ts");
        expect(changed).not.toContain("README.md");
      });

      it("does not know the changes of a new branch or of an event without changes", async () => {
        const context = { event: "push" as const, ref: "refs/heads/new", sha: second, branch: "new" };
        expect(await h.forge.changedFiles(h.repo, { context, changes: { kind: "push", before: "0".repeat(40), after: second } })).toBeUndefined();
        expect(await h.forge.changedFiles(h.repo, { context })).toBeUndefined();
      });
    });

    describe("reports", () => {
      it("moves a job through queued → running → success", async () => {
        const sha = await h.commit({ "a.txt": "success\n" }, second);
        const receipt = await h.forge.reportJob(h.repo, job(sha));
        expect(await stateOf(h, sha, "test")).toBe("queued");
        await h.forge.reportJob(h.repo, job(sha, { state: "running", startedAt: "2025-01-02T03:04:05Z", reportId: receipt.reportId }));
        expect(await stateOf(h, sha, "test")).toBe("running");
        await h.forge.reportJob(h.repo, job(sha, { state: "success", durationMs: 63_000, completedAt: "2025-01-02T03:05:08Z", reportId: receipt.reportId }));
        const shown = await h.shown(sha);
        expect(shown.filter((report) => report.name.includes("test"))).toEqual([expect.objectContaining({ state: "success" })]);
      });

      it("shows a failure with the failing step and the end of its log, colours stripped", async () => {
        const sha = await h.commit({ "a.txt": "failure\n" }, second);
        const receipt = await h.forge.reportJob(h.repo, job(sha, { state: "running" }));
        await h.forge.reportJob(
          h.repo,
          job(sha, {
            state: "failure",
            reportId: receipt.reportId,
            failure: { stepName: "npm test", stepIndex: 1, exitCode: 1, logTail: ["\u001b[32m✓ parses\u001b[0m", "\u001b[31m✗ plans: expected 2, got 3\u001b[0m"] },
          }),
        );
        const [shown] = (await h.shown(sha)).filter((report) => report.name.includes("test"));
        expect(shown?.state).toBe("failure");
        expect(shown?.text).toContain("npm test");
        expect(shown?.text).not.toContain("\u001b");
        if (h.showsLogTail) expect(shown?.text).toContain("✗ plans: expected 2, got 3");
      });

      it("shows the same update reported twice once", async () => {
        const sha = await h.commit({ "a.txt": "twice\n" }, second);
        const update = job(sha, { state: "running" });
        const one = await h.forge.reportJob(h.repo, update);
        const two = await h.forge.reportJob(h.repo, { ...update, reportId: one.reportId });
        expect(two.reportId).toBe(one.reportId);
        await h.forge.reportJob(h.repo, job(sha, { state: "success", reportId: one.reportId }));
        await h.forge.reportJob(h.repo, job(sha, { state: "success", reportId: one.reportId }));
        const shown = (await h.shown(sha)).filter((report) => report.name.includes("test"));
        expect(shown).toEqual([expect.objectContaining({ state: "success" })]);
      });

      it("reports cancelled, skipped and timed out jobs", async () => {
        const sha = await h.commit({ "a.txt": "ends\n" }, second);
        for (const [jobKey, state] of [["lint", "cancelled"], ["docs", "skipped"], ["slow", "timed_out"]] as const) {
          await h.forge.reportJob(h.repo, job(sha, { jobKey, jobName: jobKey, state, description: `${jobKey} ended ${state}` }));
        }
        const shown = await h.shown(sha);
        expect(shown.find((report) => report.name.includes("lint"))?.state).toBe("cancelled");
        expect(shown.find((report) => report.name.includes("docs"))?.state).toBe("skipped");
        // GitLab has no timed-out status: it shows failed.
        expect(["timed_out", "failure"]).toContain(shown.find((report) => report.name.includes("slow"))?.state);
      });

      it("reports the pipeline apart from its jobs", async () => {
        const sha = await h.commit({ "a.txt": "pipeline\n" }, second);
        const update: PipelineStatusUpdate = { sha, ref: "refs/heads/main", branch: "main", pipelineName: PIPELINE, state: "running", externalId: "pipeline-1" };
        const receipt = await h.forge.reportPipeline(h.repo, update);
        await h.forge.reportJob(h.repo, job(sha, { state: "success" }));
        await h.forge.reportPipeline(h.repo, { ...update, state: "failure", reportId: receipt.reportId, summary: "**deploy** failed" });
        const shown = await h.shown(sha);
        expect(shown).toHaveLength(2);
        expect(shown.find((report) => !report.name.includes("test"))?.state).toBe("failure");
        expect(shown.find((report) => report.name.includes("test"))?.state).toBe("success");
      });
    });
  });
}

async function stateOf(h: ForgeHarness, sha: string, jobName: string): Promise<ReportState | undefined> {
  const shown = (await h.shown(sha)).filter((report) => report.name.includes(jobName));
  expect(shown).toHaveLength(1);
  return shown[0]?.state;
}
