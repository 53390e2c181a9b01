// Pod names, label values and where a job's source comes from.
import { describe, expect, it } from "vitest";
import { isRemoteRepository, podSourceFor } from "../../../src/executors/kubernetes/job-source";
import { exactLabelValue, isDnsLabel, isLabelValue, labelValue, podNameFor, stepContainerName } from "../../../src/executors/kubernetes/pod-names";

const RUN_IDS = [
  "run-42-test-1",
  "Run-42-Test-1",
  "7f3c2a9e-1b4d-4c8e-9a6f-2d5e8b1c0a7f-test-node-20-1",
  "7f3c2a9e-1b4d-4c8e-9a6f-2d5e8b1c0a7f-test-node-22-1",
  `${"a".repeat(200)}-1`,
  `${"a".repeat(200)}-2`,
  "pipeline 1/build (linux, x64)#3",
  "---",
  "",
  "ünïcödé-😀",
  "UPPER_case.dots_and_underscores",
];

describe("podNameFor", () => {
  it("is a DNS-1123 label of at most 63 characters starting with gust-", () => {
    for (const runId of RUN_IDS) {
      const name = podNameFor(runId);
      expect(name.length, runId).toBeLessThanOrEqual(63);
      expect(isDnsLabel(name), name).toBe(true);
      expect(name.startsWith("gust-"), name).toBe(true);
    }
  });

  it("is deterministic and keeps the run id readable", () => {
    expect(podNameFor("run-42-test-1")).toBe(podNameFor("run-42-test-1"));
    expect(podNameFor("run-42-test-1")).toMatch(/^gust-run-42-test-1-[0-9a-f]{10}$/);
  });

  it("gives distinct run ids distinct names, also when they sanitize alike", () => {
    const names = RUN_IDS.map(podNameFor);
    expect(new Set(names).size).toBe(RUN_IDS.length);
  });
});

describe("label values", () => {
  it("are always valid, whatever the input", () => {
    for (const text of [...RUN_IDS, "acme/app", "-x-", ".", "a".repeat(100), "a".repeat(62) + "--b"]) {
      expect(isLabelValue(labelValue(text)), text).toBe(true);
      expect(isLabelValue(exactLabelValue(text)), text).toBe(true);
    }
    expect(labelValue("acme/app")).toBe("acme-app");
    expect(labelValue("  spaced out  ")).toBe("spaced-out");
  });

  it("keep a valid value as it is and tell apart values that sanitize alike when exact", () => {
    expect(exactLabelValue("run-42-test-1")).toBe("run-42-test-1");
    expect(exactLabelValue("a b")).not.toBe(exactLabelValue("a/b"));
    expect(labelValue("a b")).toBe(labelValue("a/b"));
    const exact = RUN_IDS.map(exactLabelValue);
    expect(new Set(exact).size).toBe(RUN_IDS.length);
  });

  it("name step containers step-<N>", () => {
    expect(stepContainerName(0)).toBe("step-0");
    expect(stepContainerName(19)).toBe("step-19");
  });
});

describe("podSourceFor", () => {
  const commit = { sha: "c0ffee".padEnd(40, "0"), ref: "refs/heads/main", branch: "main" };

  it("clones remote repositories in the pod", () => {
    for (const url of ["https://github.com/acme/app.git", "http://git.internal/app", "ssh://git@github.com/acme/app.git", "git@github.com:acme/app.git", "git://example.com/app"]) {
      expect(isRemoteRepository(url), url).toBe(true);
      expect(podSourceFor({ kind: "git", repository: url, commit: "abc123" }, commit)).toEqual({
        kind: "git",
        url,
        commit: "abc123",
        ref: "refs/heads/main",
        depth: 1,
        submodules: false,
      });
    }
  });

  it("passes clone credentials and submodules on", () => {
    const auth = { username: "x-access-token", password: "secret" };
    expect(podSourceFor({ kind: "git", repository: "https://github.com/acme/app.git", commit: "" }, commit, { auth, submodules: true })).toMatchObject({
      commit: commit.sha,
      submodules: true,
      auth,
    });
  });

  it("sends paths on Gust's machine to the pod as an archive", () => {
    for (const repository of ["/srv/repos/app", "./app", "app", "file:///srv/repos/app", "../a:b"]) {
      expect(isRemoteRepository(repository), repository).toBe(false);
      expect(podSourceFor({ kind: "git", repository, commit: "abc" }, commit)).toEqual({ kind: "archive" });
    }
    expect(podSourceFor({ kind: "directory", path: "/home/dev/project" }, commit)).toEqual({ kind: "archive" });
  });
});
