// The words forges show, and the Retry-After arithmetic: pure functions.
import { describe, expect, it } from "vitest";
import { retryAfterMs } from "../../src/forges/http-failure";
import { fingerprint } from "../../src/forges/report-ledger";
import { jobTitle, logTailMarkdown, plainLine, statusLine, truncateEnd } from "../../src/forges/report-text";

const job = { sha: "a".repeat(40), ref: "refs/heads/main", pipelineName: "ci", jobKey: "t", jobName: "t" } as const;

describe("plainLine", () => {
  it("strips colours, cursor moves and hyperlinks", () => {
    expect(plainLine("\u001b[1;31merror\u001b[0m: \u001b[2Kdone")).toBe("error: done");
    expect(plainLine("see \u001b]8;;https://example.com\u0007the docs\u001b]8;;\u0007")).toBe("see the docs");
  });

  it("shows the last state of a carriage-return progress bar, and keeps tabs", () => {
    expect(plainLine("  10%\r  50%\r 100%\tdone")).toBe(" 100%\tdone");
    expect(plainLine("windows line\r")).toBe("windows line");
  });
});

describe("logTailMarkdown", () => {
  it("fences the log with more backticks than it contains", () => {
    const text = logTailMarkdown({ stepName: "docs", logTail: ["```js", "code", "```"] });
    expect(text).toBe("Last lines of step `docs`:\n\n````text\n```js\ncode\n```\n````");
  });

  it("cuts whole lines from the top to fit, saying how many", () => {
    const logTail = Array.from({ length: 100 }, (_, index) => `line ${String(index).padStart(3, "0")}`);
    const text = logTailMarkdown({ stepName: "s", logTail }, 300)!;
    expect(text.length).toBeLessThanOrEqual(300);
    expect(text.endsWith("line 099\n```")).toBe(true);
    expect(text).toMatch(/… \d+ earlier lines cut\nline \d{3}\n/);
  });

  it("keeps the end of a single line longer than the limit", () => {
    const text = logTailMarkdown({ stepName: "s", logTail: [`${"a".repeat(1000)}THE END`] }, 200)!;
    expect(text.length).toBeLessThanOrEqual(200);
    expect(text).toContain("THE END");
  });

  it("is absent without log lines", () => {
    expect(logTailMarkdown({ stepName: "s" })).toBeUndefined();
    expect(logTailMarkdown(undefined)).toBeUndefined();
  });
});

describe("titles and status lines", () => {
  it("names the failing step and why", () => {
    expect(jobTitle({ ...job, state: "failure", failure: { stepName: "npm test", exitCode: 1 } })).toBe("Failed at step `npm test` (exit code 1)");
    expect(jobTitle({ ...job, state: "timed_out", failure: { stepName: "e2e", reason: "timed out after 10m" } })).toBe("Timed out at step `e2e` (timed out after 10m)");
    expect(jobTitle({ ...job, state: "success", durationMs: 83_000 })).toBe("Succeeded in 1m23s");
  });

  it("fits a status line, without Markdown backticks", () => {
    const line = statusLine({ ...job, state: "failure", failure: { stepName: "x".repeat(300), exitCode: 1 } }, 140);
    expect(line.length).toBe(140);
    expect(line).not.toContain("`");
  });

  it("never splits a surrogate pair when truncating", () => {
    expect(truncateEnd("ab😀cd", 4)).toBe("ab…");
  });
});

describe("fingerprint", () => {
  it("ignores key order and the report id", () => {
    const a = fingerprint({ ...job, state: "failure", failure: { stepName: "s", exitCode: 1 }, reportId: "1" });
    const b = fingerprint({ failure: { exitCode: 1, stepName: "s" }, state: "failure", ...job });
    expect(a).toBe(b);
    expect(fingerprint({ ...job, state: "failure", failure: { stepName: "s", exitCode: 2 } })).not.toBe(b);
  });
});

describe("retryAfterMs", () => {
  const now = Date.parse("2025-06-01T12:00:00Z");

  it("reads seconds and HTTP dates", () => {
    expect(retryAfterMs({ "retry-after": "120" }, now)).toBe(120_000);
    expect(retryAfterMs({ "retry-after": "Sun, 01 Jun 2025 12:00:30 GMT" }, now)).toBe(30_000);
  });

  it("falls back to the rate-limit reset time once the quota is spent", () => {
    const reset = String(now / 1000 + 45);
    expect(retryAfterMs({ "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset }, now)).toBe(45_000);
    expect(retryAfterMs({ "ratelimit-remaining": "0", "ratelimit-reset": reset }, now)).toBe(45_000);
    expect(retryAfterMs({ "x-ratelimit-remaining": "10", "x-ratelimit-reset": reset }, now)).toBeUndefined();
  });
});
