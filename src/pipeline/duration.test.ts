import { describe, expect, it } from "vitest";
import { DURATION_PATTERN, formatDuration, parseDuration } from "./duration";

describe("parseDuration", () => {
  it.each([
    ["250ms", 250],
    ["90s", 90_000],
    ["5m", 300_000],
    ["2h", 7_200_000],
    ["7d", 604_800_000],
    ["1h30m", 5_400_000],
    ["1m30s500ms", 90_500],
    ["1.5h", 5_400_000],
    ["0.5s", 500],
    ["0s", 0],
  ])("reads %s as %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "5", "5 m", "m5", "5min", "1h 30m", "-5s", "5s ", "1.s", "h"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it("agrees with the schema's pattern", () => {
    const pattern = new RegExp(DURATION_PATTERN);
    for (const text of ["250ms", "1h30m", "1.5h", "5", "5 m", "1h 30m", "5min", ""]) {
      expect(pattern.test(text), text).toBe(parseDuration(text) !== undefined);
    }
  });

  it("does not keep state between calls", () => {
    expect(parseDuration("5x")).toBeUndefined();
    expect(parseDuration("5s")).toBe(5000);
    expect(parseDuration("5s")).toBe(5000);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0ms"],
    [999, "999ms"],
    [1_000, "1.00s"],
    [1_234, "1.23s"],
    [12_345, "12.3s"],
    [60_000, "1m"],
    [90_000, "1m30s"],
    [3_600_000, "1h"],
    [5_400_000, "1h30m"],
    [86_400_000, "24h"],
  ])("formats %d ms as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("carries rounded seconds into the minutes instead of printing 60s", () => {
    expect(formatDuration(119_600)).toBe("2m");
    expect(formatDuration(3_599_999)).toBe("1h");
    expect(formatDuration(59_999)).toBe("1m");
  });

  it("never prints 60 seconds or 60 minutes in any range", () => {
    for (let ms = 1_000; ms < 10_000_000; ms += 337) {
      const text = formatDuration(ms);
      expect(text, `${ms}`).not.toMatch(/(^|[^\d.])60(\.0+)?[sm]$|(^|[^\d.])60(\.0+)?s|m60s|h60m/);
    }
  });
});
