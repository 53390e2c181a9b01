// normalizeGithubEvent on GitHub's own example payloads (@octokit/webhooks-examples).
import examples from "@octokit/webhooks-examples";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors";
import { normalizeGithubEvent } from "../../src/forges/github";

function example(event: string, pick: (payload: Record<string, any>) => boolean): Record<string, any> {
  const found = examples.find((definition) => definition.name === event)?.examples.find((payload) => pick(payload as Record<string, any>));
  if (!found) throw new Error(`no ${event} example matches`);
  // Tests change copies, never the shared examples.
  return structuredClone(found) as Record<string, any>;
}

const REPO = { fullName: "Codertocat/Hello-World", cloneUrl: "https://github.com/Codertocat/Hello-World.git", defaultBranch: "master" };

describe("normalizeGithubEvent", () => {
  describe("push", () => {
    it("a push to a branch runs at the pushed commit", () => {
      const payload = example("push", (p) => p.ref === "refs/heads/master" && !p.deleted);
      expect(normalizeGithubEvent("push", payload)).toEqual({
        kind: "run",
        repo: REPO,
        context: { event: "push", ref: "refs/heads/master", sha: payload.after, branch: "master" },
        fromFork: false,
        deliveryKind: "push",
        changes: { kind: "push", before: payload.before, after: payload.after },
      });
    });

    it("a pushed tag is a tag event at the commit the tag points to", () => {
      const payload = example("push", (p) => p.ref === "refs/tags/simple-tag" && !p.deleted);
      expect(normalizeGithubEvent("push", payload)).toMatchObject({
        kind: "run",
        context: { event: "tag", ref: "refs/tags/simple-tag", tag: "simple-tag", sha: payload.head_commit.id },
      });
    });

    it("an annotated tag runs at its commit, not at the tag object", () => {
      const payload = example("push", (p) => p.ref === "refs/tags/simple-tag" && !p.deleted);
      payload.after = "a".repeat(40);
      expect(normalizeGithubEvent("push", payload)).toMatchObject({ context: { sha: payload.head_commit.id } });
    });

    it("a deleted tag is ignored", () => {
      const payload = example("push", (p) => p.ref === "refs/tags/simple-tag" && p.deleted);
      expect(normalizeGithubEvent("push", payload)).toEqual({ kind: "ignored", reason: "refs/tags/simple-tag was deleted" });
    });

    it("a deleted branch is ignored (by `deleted`, and by an all-zero `after`)", () => {
      const payload = example("push", (p) => p.ref === "refs/heads/master");
      Object.assign(payload, { deleted: true, created: false, before: payload.after, after: "0".repeat(40), head_commit: null });
      expect(normalizeGithubEvent("push", payload)).toEqual({ kind: "ignored", reason: "refs/heads/master was deleted" });
      delete payload.deleted;
      expect(normalizeGithubEvent("push", payload)).toMatchObject({ kind: "ignored" });
    });

    it("a push to another kind of ref is ignored", () => {
      const payload = example("push", (p) => p.ref === "refs/heads/master");
      payload.ref = "refs/notes/commits";
      expect(normalizeGithubEvent("push", payload)).toMatchObject({ kind: "ignored", reason: expect.stringContaining("neither a branch nor a tag") });
    });
  });

  describe("pull_request", () => {
    it("opened runs at the head commit, on the head branch, into the base branch", () => {
      const payload = example("pull_request", (p) => p.action === "opened");
      expect(normalizeGithubEvent("pull_request", payload)).toEqual({
        kind: "run",
        repo: REPO,
        context: {
          event: "pull_request",
          ref: `refs/pull/${payload.number}/head`,
          sha: payload.pull_request.head.sha,
          branch: "changes",
          targetBranch: "master",
          action: "opened",
        },
        fromFork: false,
        deliveryKind: "pull_request.opened",
        changes: { kind: "review", number: payload.number, headSha: payload.pull_request.head.sha, baseSha: payload.pull_request.base.sha },
      });
    });

    it.each(["synchronize", "reopened"])("%s runs", (action) => {
      const payload = example("pull_request", (p) => p.action === action);
      expect(normalizeGithubEvent("pull_request", payload)).toMatchObject({ kind: "run", context: { action }, deliveryKind: `pull_request.${action}` });
    });

    it.each(["closed", "labeled", "assigned", "ready_for_review"])("%s is ignored", (action) => {
      const payload = example("pull_request", (p) => p.action === action);
      expect(normalizeGithubEvent("pull_request", payload)).toMatchObject({ kind: "ignored", reason: expect.stringContaining(`#${payload.number}`) });
    });

    it("a pull request from a fork is marked, and builds the base repository", () => {
      const payload = example("pull_request", (p) => p.action === "opened");
      payload.pull_request.head.repo = { ...payload.pull_request.head.repo, id: 999, full_name: "someone/Hello-World", fork: true };
      payload.pull_request.head.label = "someone:changes";
      expect(normalizeGithubEvent("pull_request", payload)).toMatchObject({ kind: "run", fromFork: true, repo: REPO });
    });

    it("a pull request whose fork was deleted counts as from a fork", () => {
      const payload = example("pull_request", (p) => p.action === "synchronize");
      payload.pull_request.head.repo = null;
      expect(normalizeGithubEvent("pull_request", payload)).toMatchObject({ kind: "run", fromFork: true });
    });
  });

  it("ignores ping and events that do not start pipelines", () => {
    expect(normalizeGithubEvent("ping", { zen: "Keep it logically awesome." })).toMatchObject({ kind: "ignored" });
    expect(normalizeGithubEvent("issues", example("issues", () => true))).toEqual({ kind: "ignored", reason: "GitHub event 'issues' does not start pipelines" });
  });

  it("rejects a handled event whose body lacks what Gust needs, naming the field", () => {
    const payload = example("push", (p) => p.ref === "refs/heads/master");
    delete payload.after;
    expect(() => normalizeGithubEvent("push", payload)).toThrow(InputError);
    expect(() => normalizeGithubEvent("push", payload)).toThrow(/GitHub push payload: after:/);
  });
});
