// normalizeGitlabEvent on payloads shaped as GitLab documents them (test/fixtures/gitlab-events,
// after docs.gitlab.com "Webhook events").
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors";
import { normalizeGitlabEvent } from "../../src/forges/gitlab";

function fixture(name: string): Record<string, any> {
  return JSON.parse(readFileSync(path.join(import.meta.dirname, "../fixtures/gitlab-events", `${name}.json`), "utf8"));
}

describe("normalizeGitlabEvent", () => {
  describe("Push Hook", () => {
    it("runs at checkout_sha on the pushed branch", () => {
      expect(normalizeGitlabEvent("Push Hook", fixture("push-hook"))).toEqual({
        kind: "run",
        repo: { fullName: "mike/diaspora", cloneUrl: "http://example.com/mike/diaspora.git", defaultBranch: "master" },
        context: { event: "push", ref: "refs/heads/master", sha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", branch: "master" },
        fromFork: false,
        deliveryKind: "Push Hook",
        changes: { kind: "push", before: "95790bf891e76fee5e1747ab589903a6a1f80f22", after: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7" },
      });
    });

    it("ignores a deleted branch", () => {
      expect(normalizeGitlabEvent("Push Hook", fixture("push-hook-branch-deleted"))).toEqual({ kind: "ignored", reason: "refs/heads/feature/old was deleted" });
    });
  });

  describe("Tag Push Hook", () => {
    it("runs a tag event at the tagged commit", () => {
      expect(normalizeGitlabEvent("Tag Push Hook", fixture("tag-push-hook"))).toMatchObject({
        kind: "run",
        repo: { fullName: "jsmith/example" },
        context: { event: "tag", ref: "refs/tags/v1.0.0", tag: "v1.0.0", sha: "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7" },
        deliveryKind: "Tag Push Hook",
      });
    });

    it("an annotated tag runs at checkout_sha, not at the tag object in `after`", () => {
      const payload = fixture("tag-push-hook-annotated");
      expect(payload.after).not.toBe(payload.checkout_sha);
      expect(normalizeGitlabEvent("Tag Push Hook", payload)).toMatchObject({ context: { sha: payload.checkout_sha, tag: "v1.1.0" } });
    });

    it("ignores a deleted tag", () => {
      expect(normalizeGitlabEvent("Tag Push Hook", fixture("tag-push-hook-deleted"))).toEqual({ kind: "ignored", reason: "refs/tags/v1.0.0 was deleted" });
    });
  });

  describe("Merge Request Hook", () => {
    it("open runs at the last commit of the source branch, into the target branch", () => {
      expect(normalizeGitlabEvent("Merge Request Hook", fixture("merge-request-hook-open"))).toEqual({
        kind: "run",
        repo: { fullName: "gitlabhq/gitlab-test", cloneUrl: "http://example.com/gitlabhq/gitlab-test.git", defaultBranch: "master" },
        context: {
          event: "merge_request",
          ref: "refs/merge-requests/1/head",
          sha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
          branch: "ms-viewport",
          targetBranch: "master",
          action: "opened",
        },
        fromFork: false,
        deliveryKind: "Merge Request Hook.open",
        changes: { kind: "review", number: 1, headSha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7" },
      });
    });

    it("an update that brings commits (oldrev) is a synchronize at the new last commit", () => {
      expect(normalizeGitlabEvent("Merge Request Hook", fixture("merge-request-hook-update-commits"))).toMatchObject({
        kind: "run",
        context: { action: "synchronize", sha: "e83c5163316f89bfbde7d9ab23ca2e25604af290" },
        deliveryKind: "Merge Request Hook.update",
      });
    });

    it("an update without commits (labels, title) is ignored", () => {
      expect(normalizeGitlabEvent("Merge Request Hook", fixture("merge-request-hook-update-labels"))).toEqual({
        kind: "ignored",
        reason: "merge request !1 updated without new commits",
      });
    });

    it("reopen runs; close, merge and approvals are ignored", () => {
      const payload = fixture("merge-request-hook-open");
      payload.object_attributes.action = "reopen";
      expect(normalizeGitlabEvent("Merge Request Hook", payload)).toMatchObject({ kind: "run", context: { action: "reopened" } });
      expect(normalizeGitlabEvent("Merge Request Hook", fixture("merge-request-hook-close"))).toMatchObject({ kind: "ignored", reason: expect.stringContaining("!1 close") });
      for (const action of ["merge", "approved", "unapproved", "approval", "unapproval"]) {
        payload.object_attributes.action = action;
        expect(normalizeGitlabEvent("Merge Request Hook", payload)).toMatchObject({ kind: "ignored" });
      }
    });

    it("a merge request from a fork (source project ≠ target project) builds the target and is marked", () => {
      expect(normalizeGitlabEvent("Merge Request Hook", fixture("merge-request-hook-fork"))).toMatchObject({
        kind: "run",
        fromFork: true,
        repo: { fullName: "gitlabhq/gitlab-test" },
        context: { branch: "fix-typo", targetBranch: "master" },
      });
    });
  });

  it("reads System Hook deliveries by their object_kind", () => {
    expect(normalizeGitlabEvent("System Hook", fixture("push-hook"))).toMatchObject({ kind: "run", context: { branch: "master" } });
  });

  it("ignores events that do not start pipelines", () => {
    expect(normalizeGitlabEvent("Pipeline Hook", { object_kind: "pipeline" })).toEqual({ kind: "ignored", reason: "GitLab event 'Pipeline Hook' does not start pipelines" });
    expect(normalizeGitlabEvent("Note Hook", { object_kind: "note" })).toMatchObject({ kind: "ignored" });
  });

  it("rejects a handled event whose body lacks what Gust needs, naming the field", () => {
    const payload = fixture("merge-request-hook-open");
    delete payload.object_attributes.last_commit;
    expect(() => normalizeGitlabEvent("Merge Request Hook", payload)).toThrow(InputError);
    expect(() => normalizeGitlabEvent("Merge Request Hook", payload)).toThrow(/GitLab Merge Request Hook payload: object_attributes\.last_commit:/);
  });
});
