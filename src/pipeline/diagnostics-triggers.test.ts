// Where problems of triggers point: filters, schedules and manual inputs.
import { describe, expect, it } from "vitest";
import { parsePipeline } from "./parse";
import { diagnosticAt, diagnosticsOf, JOB, source, where } from "./test-helpers";

describe("trigger filters", () => {
  it("reports a filter of only ! patterns, which would never match", () => {
    const lines = ["on:", "  push:", "    branches: ['!main', '!dev']", "    tags: ['v*', '!v0*']", "  tag: '!nightly'", "jobs:", ...JOB];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics.map((d) => [d.path, d.line, d.column, d.message])).toEqual([
      ["on.push.branches", 3, where(lines, 3, "[").column, "every pattern here excludes (!), so nothing matches"],
      ["on.tag", 5, where(lines, 5, "'!").column, "every pattern here excludes (!), so nothing matches"],
    ]);
    expect(diagnostics[0]!.hint).toMatch(/-ignore/);
  });
});

describe("schedules", () => {
  it("reports a bad cron at the cron value", () => {
    const lines = ["on:", "  schedule:", '    - cron: "61 * * * *"', "jobs:", ...JOB];
    const d = diagnosticAt(lines, "on.schedule[0].cron");
    expect(d).toMatchObject(where(lines, 3, '"61'));
    expect(d.message).toMatch(/^invalid cron expression: .*minute/i);
  });

  it("reports a cron with too few fields", () => {
    const lines = ["on:", "  schedule:", "    - cron: '* *'", "jobs:", ...JOB];
    expect(diagnosticAt(lines, "on.schedule[0].cron").message).toMatch(/^invalid cron expression/);
  });

  it("reports an unknown time zone with a hint", () => {
    const lines = ["on:", "  schedule:", "    - cron: '0 3 * * *'", "      timezone: Mars/Olympus", "jobs:", ...JOB];
    expect(diagnosticAt(lines, "on.schedule[0].timezone")).toMatchObject({
      ...where(lines, 4, "Mars/Olympus"),
      message: "unknown time zone 'Mars/Olympus'",
      hint: "use an IANA name such as Europe/Berlin or Asia/Shanghai",
    });
  });

  it("accepts a valid cron with a time zone", () => {
    const result = parsePipeline(source(["on:", "  schedule:", "    - cron: '30 2 * * 1-5'", "      timezone: Asia/Shanghai", "jobs:", ...JOB]), ".gust.yml");
    expect(result.ok).toBe(true);
  });
});

describe("manual inputs", () => {
  const file = (input: string[]) => ["on:", "  manual:", "    inputs:", "      target:", ...input.map((l) => `        ${l}`), "jobs:", ...JOB];

  it("requires options for a choice", () => {
    const lines = file(["type: choice"]);
    expect(diagnosticAt(lines, "on.manual.inputs.target.options")).toMatchObject({ ...where(lines, 5, "type"), message: "a choice input needs options", hint: "add options: [a, b]" });
  });

  it("rejects options on a non-choice input", () => {
    const lines = file(["type: string", "options: [a]"]);
    expect(diagnosticAt(lines, "on.manual.inputs.target.options")).toMatchObject({ ...where(lines, 6, "[a]"), message: "options are only for type: choice" });
  });

  it("rejects a default that is not one of the options", () => {
    const lines = file(["type: choice", "options: [staging, production]", "default: prod"]);
    expect(diagnosticAt(lines, "on.manual.inputs.target.default")).toMatchObject({ ...where(lines, 7, "prod"), message: "default 'prod' is not one of the options" });
  });

  it("rejects a default of the wrong type", () => {
    const lines = file(["type: boolean", "default: 'yes'"]);
    expect(diagnosticAt(lines, "on.manual.inputs.target.default")).toMatchObject({ ...where(lines, 6, "'yes'"), message: "default must be a boolean" });
  });
});
