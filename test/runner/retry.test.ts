// The runner's retries: transient failures (5xx, a refused connection) are tried again with a
// doubling delay, a 4xx or any other error at once fails; runner.json errors name the field.
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { backoffDelay, HttpStatusError, isTransient, withRetry } from "../../src/runner/retry";
import { parseRunnerConfig } from "../../src/runner/runner-config";

const policy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 250 };

async function closedPortError(): Promise<unknown> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return fetch(`http://127.0.0.1:${port}/`).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe("retries", () => {
  it("doubles the delay up to the cap", () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, policy))).toEqual([100, 200, 250, 250]);
  });

  it("tells transient failures from the request's own", async () => {
    expect(isTransient(new HttpStatusError(503, "unavailable"))).toBe(true);
    expect(isTransient(new HttpStatusError(500, "internal"))).toBe(true);
    expect(isTransient(new HttpStatusError(404, "missing"))).toBe(false);
    expect(isTransient(new HttpStatusError(413, "too large"))).toBe(false);
    expect(isTransient(await closedPortError())).toBe(true);
    expect(isTransient(new Error("tar: bad archive"))).toBe(false);
  });

  it("retries until it succeeds, waiting the backoff between attempts", async () => {
    const waits: number[] = [];
    const lines: string[] = [];
    let calls = 0;
    const result = await withRetry(
      "artifacts",
      async () => {
        calls++;
        if (calls < 3) throw new HttpStatusError(502, "bad gateway");
        return "done";
      },
      { ...policy, sleep: async (ms) => void waits.push(ms) },
      (line) => lines.push(line),
    );
    expect(result).toBe("done");
    expect(waits).toEqual([100, 200]);
    expect(lines[0]).toBe("artifacts: bad gateway; retrying in 100 ms (attempt 2 of 4)");
  });

  it("gives up after the last attempt, and at once on a 4xx", async () => {
    let calls = 0;
    const noWait = { ...policy, sleep: async () => undefined };
    await expect(withRetry("x", () => (calls++, Promise.reject(new HttpStatusError(503, "down"))), noWait)).rejects.toThrow("down");
    expect(calls).toBe(4);
    calls = 0;
    await expect(withRetry("x", () => (calls++, Promise.reject(new HttpStatusError(403, "forbidden"))), noWait)).rejects.toThrow("forbidden");
    expect(calls).toBe(1);
  });
});

describe("runner.json", () => {
  const valid = { version: 1, runnerUrl: "http://10.88.0.1:8080/", token: "t", source: { kind: "archive" }, artifactsFrom: ["build"], artifacts: { paths: ["dist/**"] }, cache: null, stopServices: false, lastStep: 2 };

  it("reads the protocol's fields", () => {
    expect(parseRunnerConfig(valid)).toEqual({ ...valid, runnerUrl: "http://10.88.0.1:8080" });
    const git = parseRunnerConfig({ ...valid, source: { kind: "git", url: "https://x/y.git", commit: "abc", ref: "refs/heads/main", depth: 1, submodules: true } });
    expect(git.source).toEqual({ kind: "git", url: "https://x/y.git", commit: "abc", ref: "refs/heads/main", depth: 1, submodules: true });
  });

  it("names the field it cannot follow", () => {
    expect(() => parseRunnerConfig({ ...valid, version: 2 })).toThrow("runner.json: version must be 1");
    expect(() => parseRunnerConfig({ ...valid, source: { kind: "svn" } })).toThrow('source.kind must be "git" or "archive"');
    expect(() => parseRunnerConfig({ ...valid, cache: { key: ["a", { hashFiles: "x" }], paths: [] } })).toThrow("cache.key[1].hashFiles must be a list of strings");
    expect(() => parseRunnerConfig({ ...valid, source: { kind: "git", url: "https://x", commit: "c", auth: { username: "u" } } })).toThrow("source.auth.password");
  });
});
