// The FC provider's pure decisions: alias weights ↔ split, the digest marker, function settings.
import { describe, expect, it } from "vitest";
import type { FcTarget } from "../../src/release/fc/fc-settings";
import { DESCRIPTION_MAX, digestMarker, findPublished, functionSettings, versionDescription } from "../../src/release/fc/fc-settings";
import { aliasFromSplit, fractionToPercent, percentToFraction, refuseUnsupported, splitFromAlias } from "../../src/release/fc/fc-traffic";

const target: FcTarget = { type: "fc", region: "cn-hangzhou", function: "api", alias: "live", env: {} };

describe("alias weights", () => {
  it("turn every percentage with up to two decimals into a fraction and back exactly", () => {
    const changed: number[] = [];
    for (let hundredths = 0; hundredths <= 10_000; hundredths += 1) {
      const percent = hundredths / 100;
      if (fractionToPercent(percentToFraction(percent)) !== percent) changed.push(percent);
    }
    expect(changed).toEqual([]);
    expect(0.07 * 100).not.toBe(7);
    expect(fractionToPercent(0.07)).toBe(7);
    expect(percentToFraction(20)).toBe(0.2);
  });

  it("read an alias as a split, ignoring zero weights and naming the heaviest extra version", () => {
    expect(splitFromAlias(undefined)).toEqual({ stable: null });
    expect(splitFromAlias({ versionId: "3", additionalVersionWeight: {} })).toEqual({ stable: "3" });
    expect(splitFromAlias({ versionId: "3", additionalVersionWeight: { "4": 0 } })).toEqual({ stable: "3" });
    expect(splitFromAlias({ versionId: "3", additionalVersionWeight: { "4": 0.1, "5": 0.25 } })).toEqual({ stable: "3", canary: { version: "5", weight: 25 } });
  });

  it("write a split as an alias body, an empty map when there is no canary", () => {
    expect(aliasFromSplit({ stable: "3", canary: { version: "4", weight: 10 } })).toEqual({ versionId: "3", additionalVersionWeight: { "4": 0.1 } });
    expect(aliasFromSplit({ stable: "3", canary: { version: "4", weight: 0 } })).toEqual({ versionId: "3", additionalVersionWeight: {} });
    expect(aliasFromSplit({ stable: "3", canary: { version: "3", weight: 50 } })).toEqual({ versionId: "3", additionalVersionWeight: {} });
  });

  it("refuse routes, a canary without a stable version, and weights outside 0–100, permanently", () => {
    const refusals = [
      { stable: "1", canary: { version: "2", weight: 0 }, route: { header: { name: "x-canary", value: "1" } } },
      { stable: "1", canary: { version: "2", weight: 5 }, route: { cookie: { name: "c", value: "1" } } },
      { stable: null, canary: { version: "2", weight: 5 } },
      { stable: "1", canary: { version: "2", weight: 101 } },
      { stable: "1", canary: { version: "2", weight: Number.NaN } },
    ];
    for (const split of refusals) expect(() => refuseUnsupported(split), JSON.stringify(split)).toThrow(expect.objectContaining({ retryable: false, fault: "user" }));
    expect(() => refuseUnsupported({ stable: "1", canary: { version: "2", weight: 100 }, route: {} })).not.toThrow();
  });
});

describe("digest marker", () => {
  const digest = "0123456789abcdef0123456789abcdef";

  it("goes at the end of the description, which is shortened so it always fits", () => {
    expect(versionDescription({ digest, description: "gust acme/shop #12 abc1234" })).toBe("gust acme/shop #12 abc1234 [gust:0123456789abcdef]");
    const long = versionDescription({ digest, description: "x".repeat(400) });
    expect(long).toHaveLength(DESCRIPTION_MAX);
    expect(long.endsWith(`… ${digestMarker(digest)}`)).toBe(true);
    expect(versionDescription({ digest, description: "  " })).toBe("[gust:0123456789abcdef]");
  });

  it("finds the version published for a digest, and none for another", () => {
    const versions = [{ version: "2", description: "manual" }, { version: "1", description: versionDescription({ digest, description: "first" }) }, { version: "0" }];
    expect(findPublished(versions, digest)?.version).toBe("1");
    expect(findPublished(versions, "f".repeat(64))).toBeUndefined();
  });
});

describe("function settings", () => {
  it("carry the target's runtime, handler, sizes, timeout in whole seconds and environment", () => {
    expect(functionSettings({ ...target, runtime: "python3.10", handler: "main.handler", memoryMb: 2048, cpu: 1, timeoutMs: 1_200, instanceConcurrency: 5, env: { A: "1" } }, { zipFile: "UEsFBg==" })).toEqual({
      runtime: "python3.10",
      handler: "main.handler",
      memorySize: 2048,
      cpu: 1,
      timeout: 2,
      instanceConcurrency: 5,
      environmentVariables: { A: "1" },
      code: { zipFile: "UEsFBg==" },
    });
  });

  it("give custom runtimes a placeholder handler and an image the custom-container runtime", () => {
    expect(functionSettings({ ...target, runtime: "custom.debian10" }, { zipFile: "" })).toMatchObject({ handler: "index.handler" });
    expect(functionSettings(target, { image: "acme/api:1" })).toMatchObject({ runtime: "custom-container", customContainerConfig: { image: "acme/api:1" } });
  });

  it("name the field a user must fix", () => {
    const cases: Array<[Partial<FcTarget>, { zipFile?: string; image?: string }, string]> = [
      [{}, { zipFile: "" }, "release.target.runtime is required"],
      [{ runtime: "nodejs20" }, { zipFile: "" }, "release.target.handler is required"],
      [{ runtime: "nodejs20" }, { image: "acme/api:1" }, "release.target.runtime is nodejs20"],
      [{ runtime: "custom-container" }, { zipFile: "" }, "needs release.target.image"],
    ];
    for (const [overrides, code, message] of cases) {
      expect(() => functionSettings({ ...target, ...overrides }, code)).toThrow(message);
    }
  });
});
