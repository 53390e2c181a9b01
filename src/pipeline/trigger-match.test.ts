// Does an event start the pipeline? Branch, tag, path and review filters of `on:`.
import { describe, expect, it } from "vitest";
import type { Triggers } from "./model";
import { globMatch, matchTrigger, refMatches, type TriggerEvent } from "./trigger-match";
import { JOB, parseOk } from "./test-helpers";

/** The triggers of a file whose `on:` section is these lines. */
function on(...lines: string[]): Triggers {
  return parseOk(["on:", ...lines.map((line) => `  ${line}`), "jobs:", ...JOB]).triggers;
}

const push = (branch: string, changedFiles?: string[]): TriggerEvent => ({ event: "push", branch, ...(changedFiles ? { changedFiles } : {}) });
const tag = (name: string): TriggerEvent => ({ event: "tag", tag: name });

describe("globMatch and refMatches", () => {
  it("matches * within one path segment and ** across", () => {
    expect(globMatch("feature/*", "feature/login")).toBe(true);
    expect(globMatch("feature/*", "feature/a/b")).toBe(false);
    expect(globMatch("feature/**", "feature/a/b")).toBe(true);
    expect(globMatch("**/*.md", ".github/README.md")).toBe(true);
  });

  it("lets later ! patterns exclude and later positive patterns include again", () => {
    const filter = { include: ["release/*", "!release/old-*", "release/old-lts"] };
    expect(refMatches(filter, "release/1.0")).toBe(true);
    expect(refMatches(filter, "release/old-1")).toBe(false);
    expect(refMatches(filter, "release/old-lts")).toBe(true);
    expect(refMatches(filter, "main")).toBe(false);
  });

  it("applies exclude after include, and no include means any", () => {
    expect(refMatches({ exclude: ["wip/*"] }, "main")).toBe(true);
    expect(refMatches({ exclude: ["wip/*"] }, "wip/x")).toBe(false);
    expect(refMatches({ include: ["*"], exclude: ["main"] }, "main")).toBe(false);
    expect(refMatches({}, "anything")).toBe(true);
  });
});

describe("push", () => {
  it("matches any branch when on: push has no filters", () => {
    expect(matchTrigger(on("push:"), push("feature/x"))).toEqual({ matched: true, reason: "push to feature/x" });
  });

  it("filters branches with globs and ! negation", () => {
    const triggers = on("push:", "  branches: [main, 'release/**', '!release/skip-*']");
    expect(matchTrigger(triggers, push("main")).matched).toBe(true);
    expect(matchTrigger(triggers, push("release/2.0/hotfix")).matched).toBe(true);
    expect(matchTrigger(triggers, push("release/skip-me"))).toEqual({ matched: false, reason: "branch 'release/skip-me' does not match on.push branches" });
    expect(matchTrigger(triggers, push("dev")).matched).toBe(false);
  });

  it("filters with branches-ignore", () => {
    const triggers = on("push:", "  branches-ignore: ['dependabot/**', gh-pages]");
    expect(matchTrigger(triggers, push("main")).matched).toBe(true);
    expect(matchTrigger(triggers, push("gh-pages")).matched).toBe(false);
    expect(matchTrigger(triggers, push("dependabot/npm/x")).matched).toBe(false);
  });

  it("ignores branch pushes when on.push names only tags", () => {
    const triggers = on("push:", "  tags: ['v*']");
    expect(matchTrigger(triggers, push("main"))).toEqual({ matched: false, reason: "the pipeline has no on.push trigger for branches" });
  });

  it("does not match a push when there is no push trigger", () => {
    expect(matchTrigger(on("manual:"), push("main"))).toEqual({ matched: false, reason: "the pipeline has no on.push trigger for branches" });
  });

  it("requires a changed file to match paths", () => {
    const triggers = on("push:", "  paths: ['src/**', package.json]");
    expect(matchTrigger(triggers, push("main", ["README.md", "src/a.ts"])).matched).toBe(true);
    expect(matchTrigger(triggers, push("main", ["package.json"])).matched).toBe(true);
    expect(matchTrigger(triggers, push("main", ["docs/x.md"]))).toEqual({ matched: false, reason: "no changed file matches paths src/**, package.json" });
    expect(matchTrigger(triggers, push("main", [])).matched).toBe(false);
  });

  it("honours ! in paths, later patterns winning", () => {
    const triggers = on("push:", "  paths: ['src/**', '!src/docs/**']");
    expect(matchTrigger(triggers, push("main", ["src/docs/guide.md"])).matched).toBe(false);
    expect(matchTrigger(triggers, push("main", ["src/docs/guide.md", "src/index.ts"])).matched).toBe(true);
  });

  it("skips when every changed file matches paths-ignore", () => {
    const triggers = on("push:", "  paths-ignore: ['**/*.md', 'docs/**']");
    expect(matchTrigger(triggers, push("main", ["README.md", "docs/a.png"]))).toEqual({ matched: false, reason: "every changed file matches paths-ignore **/*.md, docs/**" });
    expect(matchTrigger(triggers, push("main", ["README.md", "src/a.ts"])).matched).toBe(true);
    expect(matchTrigger(triggers, push("main", [])).matched).toBe(true);
  });

  it("lets path filters pass when the changed files are unknown", () => {
    expect(matchTrigger(on("push:", "  paths: ['src/**']"), push("main")).matched).toBe(true);
  });

  it("checks the branch before the paths", () => {
    const triggers = on("push:", "  branches: [main]", "  paths: ['src/**']");
    expect(matchTrigger(triggers, push("dev", ["src/a.ts"])).reason).toBe("branch 'dev' does not match on.push branches");
  });

  it("matches pushes via the default triggers", () => {
    const { triggers } = parseOk(["jobs:", ...JOB]);
    expect(matchTrigger(triggers, push("any")).matched).toBe(true);
  });
});

describe("tag", () => {
  it("matches through on.tag", () => {
    const triggers = on("tag: ['v*']");
    expect(matchTrigger(triggers, tag("v1.2.0"))).toEqual({ matched: true, reason: "tag v1.2.0" });
    expect(matchTrigger(triggers, tag("nightly"))).toEqual({ matched: false, reason: "tag 'nightly' does not match the tag filters" });
  });

  it("matches through on.push.tags", () => {
    const triggers = on("push:", "  tags: ['v*']", "  tags-ignore: ['*-rc*']");
    expect(matchTrigger(triggers, tag("v2.0.0"))).toEqual({ matched: true, reason: "tag v2.0.0 (on.push.tags)" });
    expect(matchTrigger(triggers, tag("v2.0.0-rc1")).matched).toBe(false);
  });

  it("matches any tag when on.push has no filters", () => {
    expect(matchTrigger(on("push:"), tag("v1")).matched).toBe(true);
  });

  it("ignores tags when on.push names only branches", () => {
    expect(matchTrigger(on("push:", "  branches: [main]"), tag("v1"))).toEqual({ matched: false, reason: "the pipeline has no tag trigger" });
  });

  it("ignores path filters for tags", () => {
    expect(matchTrigger(on("push:", "  tags: ['v*']", "  paths: ['src/**']"), { event: "tag", tag: "v1", changedFiles: ["README.md"] }).matched).toBe(true);
  });

  it("matches any tag with a bare on: tag", () => {
    expect(matchTrigger(on("tag:"), tag("anything")).matched).toBe(true);
  });

  it("matches when either on.tag or on.push.tags accepts", () => {
    const triggers = on("tag: ['v*']", "push:", "  tags: ['release-*']");
    expect(matchTrigger(triggers, tag("release-3")).matched).toBe(true);
    expect(matchTrigger(triggers, tag("v3")).matched).toBe(true);
    expect(matchTrigger(triggers, tag("other")).matched).toBe(false);
  });
});

describe("pull_request and merge_request", () => {
  it("filters the target branch", () => {
    const triggers = on("pull_request:", "  branches: [main]");
    expect(matchTrigger(triggers, { event: "pull_request", branch: "feature/x", targetBranch: "main" })).toEqual({ matched: true, reason: "pull request into main" });
    expect(matchTrigger(triggers, { event: "pull_request", branch: "main", targetBranch: "dev" })).toEqual({ matched: false, reason: "target branch 'dev' does not match on.pull_request branches" });
  });

  it("filters the action by types", () => {
    const triggers = on("merge_request:", "  types: [opened, reopened]");
    expect(matchTrigger(triggers, { event: "merge_request", targetBranch: "main", action: "opened" })).toEqual({ matched: true, reason: "merge request into main" });
    expect(matchTrigger(triggers, { event: "merge_request", targetBranch: "main", action: "synchronize" })).toEqual({ matched: false, reason: "action 'synchronize' is not in on.merge_request.types" });
  });

  it("keeps pull_request and merge_request apart", () => {
    const triggers = on("pull_request:");
    expect(matchTrigger(triggers, { event: "merge_request", targetBranch: "main" })).toEqual({ matched: false, reason: "the pipeline has no on.merge_request trigger" });
  });

  it("applies path filters to reviews", () => {
    const triggers = on("pull_request:", "  paths-ignore: ['docs/**']");
    expect(matchTrigger(triggers, { event: "pull_request", targetBranch: "main", changedFiles: ["docs/a.md"] }).matched).toBe(false);
    expect(matchTrigger(triggers, { event: "pull_request", targetBranch: "main", changedFiles: ["src/a.ts"] }).matched).toBe(true);
  });

  it("filters the target branch with branches-ignore", () => {
    const triggers = on("pull_request:", "  branches-ignore: ['release/*']");
    expect(matchTrigger(triggers, { event: "pull_request", targetBranch: "release/1" }).matched).toBe(false);
    expect(matchTrigger(triggers, { event: "pull_request", targetBranch: "main" }).matched).toBe(true);
  });
});

describe("manual and schedule", () => {
  it("matches manual only with on.manual", () => {
    expect(matchTrigger(on("manual:"), { event: "manual" })).toEqual({ matched: true, reason: "manual trigger" });
    expect(matchTrigger(on("push:"), { event: "manual" })).toEqual({ matched: false, reason: "the pipeline has no on.manual trigger" });
  });

  it("matches schedule only with schedule entries", () => {
    expect(matchTrigger(on("schedule: [{cron: '0 3 * * *'}]"), { event: "schedule" })).toEqual({ matched: true, reason: "schedule" });
    expect(matchTrigger(parseOk(["jobs:", ...JOB]).triggers, { event: "schedule" })).toEqual({ matched: false, reason: "the pipeline has no on.schedule trigger" });
  });
});
