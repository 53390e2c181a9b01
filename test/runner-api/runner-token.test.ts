// Runner tokens: what is minted verifies to the same claims until it expires; anything altered,
// signed with another key or malformed is refused with a typed error.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { deriveRunnerTokenKey, mintRunnerToken, RunnerTokenError, verifyRunnerToken, type RunnerTokenGrant } from "../../src/runner-api";

const key = randomBytes(32);
const grant: RunnerTokenGrant = {
  run: "run-1",
  pipelineRun: "pr-7",
  job: "test",
  needs: ["build"],
  cacheScope: "repo-3",
  source: { kind: "git-local", path: "/srv/repo", commit: "a".repeat(40) },
};
const NOW = 1_700_000_000_000;

function refusal(fn: () => unknown): RunnerTokenError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RunnerTokenError);
    return error as RunnerTokenError;
  }
  throw new Error("expected a refusal");
}

describe("runner tokens", () => {
  it("round-trips the claims", () => {
    const token = mintRunnerToken(key, grant, 60_000, NOW);
    expect(verifyRunnerToken(key, token, NOW + 1000)).toEqual({ v: 1, ...grant, exp: NOW + 60_000 });
  });

  it("refuses an expired token", () => {
    const token = mintRunnerToken(key, grant, 60_000, NOW);
    expect(verifyRunnerToken(key, token, NOW + 59_999).job).toBe("test");
    const error = refusal(() => verifyRunnerToken(key, token, NOW + 60_000));
    expect(error.code).toBe("runner_token_expired");
  });

  it("refuses claims changed after signing (another job, more needs)", () => {
    const token = mintRunnerToken(key, grant, 60_000, NOW);
    const [, signature] = token.split(".");
    for (const change of [{ job: "deploy" }, { needs: ["build", "secrets"] }, { exp: NOW + 10 ** 9 }]) {
      const forged = Buffer.from(JSON.stringify({ v: 1, ...grant, exp: NOW + 60_000, ...change })).toString("base64url");
      expect(refusal(() => verifyRunnerToken(key, `${forged}.${signature}`, NOW)).code).toBe("runner_token_invalid");
    }
  });

  it("refuses a token of another key, a cut signature and garbage", () => {
    const token = mintRunnerToken(key, grant, 60_000, NOW);
    expect(refusal(() => verifyRunnerToken(randomBytes(32), token, NOW)).code).toBe("runner_token_invalid");
    expect(refusal(() => verifyRunnerToken(key, token.slice(0, -4), NOW)).code).toBe("runner_token_invalid");
    for (const garbage of ["", "abc", "a.b.c", `.${token.split(".")[1]}`]) {
      expect(refusal(() => verifyRunnerToken(key, garbage, NOW)).code).toBe("runner_token_invalid");
    }
  });

  it("derives one key per master key, distinct from the master key", () => {
    const master = randomBytes(32);
    expect(deriveRunnerTokenKey(master)).toEqual(deriveRunnerTokenKey(Buffer.from(master)));
    expect(deriveRunnerTokenKey(master)).not.toEqual(master);
    expect(deriveRunnerTokenKey(master)).not.toEqual(deriveRunnerTokenKey(randomBytes(32)));
  });
});
