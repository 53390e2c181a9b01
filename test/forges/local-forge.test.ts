// The local forge beyond the contract: literal paths, what it logs, and ref updates from a hook.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../../src/errors";
import { LocalForge, normalizeLocalEvent } from "../../src/forges/local";
import { createGitRepository } from "./harnesses";

describe("local forge", () => {
  let repository: ReturnType<typeof createGitRepository>;
  let sha: string;

  beforeAll(() => {
    repository = createGitRepository();
    sha = repository.commit({ "*.yml": "a file named star\n", "ci.yml": "ci\n", ".gust/a b.yml": "spaced\n" });
  });
  afterAll(() => repository.remove());

  it("reads paths literally: a file called `*.yml` is one file, not a pattern", async () => {
    const forge = new LocalForge();
    expect(await forge.readFile(repository.dir, sha, "*.yml")).toBe("a file named star\n");
    expect(await forge.readFile(repository.dir, sha, "?i.yml")).toBeUndefined();
    expect(await forge.listPipelineFiles(repository.dir, sha)).toEqual([{ path: ".gust/a b.yml", text: "spaced\n" }]);
  });

  it("rejects a directory that is not a git repository", async () => {
    const empty = mkdtempSync(path.join(tmpdir(), "gust-not-a-repo-"));
    try {
      await expect(new LocalForge().readFile(empty, sha, "ci.yml")).rejects.toMatchObject({ code: "forge_not_found", retryable: false });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("keeps the latest report per job in memory and logs each change once", async () => {
    const lines: string[] = [];
    const forge = new LocalForge({ log: (line) => lines.push(line) });
    const base = { sha, ref: "refs/heads/main", pipelineName: "ci", jobKey: "build", jobName: "build" } as const;
    const first = await forge.reportJob(repository.dir, { ...base, state: "running" });
    await forge.reportJob(repository.dir, { ...base, state: "running", reportId: first.reportId });
    await forge.reportJob(repository.dir, { ...base, state: "failure", reportId: first.reportId, failure: { stepName: "make", exitCode: 2, logTail: ["\u001b[31mmake: *** [all] Error 2\u001b[0m"] } });
    expect(first).toEqual({ reportId: expect.stringMatching(/^local-\d+$/), via: "memory" });
    expect(forge.reportsFor(repository.dir)).toEqual([
      expect.objectContaining({ kind: "job", name: "ci / build", title: "Failed at step `make` (exit code 2)", receipt: first, update: expect.objectContaining({ state: "failure" }) }),
    ]);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain("ci / build: Failed at step `make` (exit code 2)");
    expect(lines[1]).toContain("make: *** [all] Error 2");
    expect(lines[1]).not.toContain("\u001b");
  });
});

describe("normalizeLocalEvent", () => {
  const repo = "/srv/git/app";
  const before = "1".repeat(40);
  const after = "2".repeat(40);

  it("turns a ref update into a push or tag event", () => {
    expect(normalizeLocalEvent("push", { repo, ref: "refs/heads/main", before, after })).toEqual({
      kind: "run",
      repo: { fullName: repo, cloneUrl: repo, defaultBranch: "main" },
      context: { event: "push", ref: "refs/heads/main", sha: after, branch: "main" },
      fromFork: false,
      deliveryKind: "push",
      changes: { kind: "push", before, after },
    });
    expect(normalizeLocalEvent("push", { repo, ref: "refs/tags/v2", before: "0".repeat(40), after })).toMatchObject({ context: { event: "tag", tag: "v2" } });
  });

  it("ignores deletions and other events, and rejects a malformed update", () => {
    expect(normalizeLocalEvent("push", { repo, ref: "refs/heads/old", before, after: "0".repeat(40) })).toMatchObject({ kind: "ignored" });
    expect(normalizeLocalEvent("fetch", { repo, ref: "refs/heads/main", before, after })).toMatchObject({ kind: "ignored" });
    expect(() => normalizeLocalEvent("push", { repo, ref: "refs/heads/main", before } as never)).toThrow(InputError);
  });
});
