import { describe, expect, it } from "vitest";
import { ProviderError } from "../../errors";
import { checkPort, launchSettings } from "./launch-settings";
import { validateSplit } from "./split-validation";

function problem(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ retryable: false, fault: "user" });
    return (error as Error).message;
  }
  throw new Error("expected a ProviderError");
}

describe("split validation", () => {
  it("accepts splits the contract allows", () => {
    validateSplit({ stable: null });
    validateSplit({ stable: "1", canary: { version: "2", weight: 0 }, route: { header: { name: "x-canary", value: "a b" }, cookie: { name: "beta", value: "1" } } });
    validateSplit({ stable: "1", canary: { version: "2", weight: 100 } });
  });

  it("names every wrong field", () => {
    expect(problem(() => validateSplit({ stable: "1", canary: { version: "2", weight: -1 } }))).toContain("split.canary.weight");
    expect(problem(() => validateSplit({ stable: "1", canary: { version: "2", weight: Number.NaN } }))).toContain("split.canary.weight");
    expect(problem(() => validateSplit({ stable: null, canary: { version: "2", weight: 5 } }))).toContain("split.stable is null");
    expect(problem(() => validateSplit({ stable: "", canary: { version: "", weight: 5 } }))).toMatch(/split\.stable.*split\.canary\.version/);
    expect(problem(() => validateSplit({ stable: "1", route: { header: { name: "x-gust-version", value: "2" } } }))).toContain("pin header");
    expect(problem(() => validateSplit({ stable: "1", route: { header: { name: "x", value: "a\r\nb" } } }))).toContain("split.route.header.value");
    expect(problem(() => validateSplit({ stable: "1", route: { cookie: { name: "beta", value: "a;b" } } }))).toContain("split.route.cookie.value");
    expect(problem(() => validateSplit({ stable: "1", route: { cookie: { name: "be ta", value: "1" } } }))).toContain("split.route.cookie.name");
  });
});

describe("launch settings", () => {
  const target = { type: "local" as const, command: "node server.mjs", port: 8081, env: { A: "1" } };

  it("keeps a directory inside the artifact, normalized", () => {
    expect(launchSettings({ ...target, directory: "./web/../srv/", healthPath: "/healthz" })).toEqual({
      command: "node server.mjs",
      directory: "srv/",
      healthPath: "/healthz",
      env: { A: "1" },
    });
    expect(launchSettings({ ...target, directory: "." })).toEqual({ command: "node server.mjs", env: { A: "1" } });
  });

  it("refuses settings that cannot run, naming the field", () => {
    expect(problem(() => launchSettings({ ...target, directory: "../outside" }))).toContain("release.target.directory");
    expect(problem(() => launchSettings({ ...target, directory: "/etc" }))).toContain("release.target.directory");
    expect(problem(() => launchSettings({ ...target, command: "  " }))).toContain("release.target.command");
    expect(problem(() => launchSettings({ ...target, healthPath: "health" }))).toContain("release.target.health-path");
    expect(problem(() => checkPort(70_000))).toContain("release.target.port");
    expect(checkPort(8081)).toBe(8081);
  });
});
