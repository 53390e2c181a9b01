import { describe, expect, it } from "vitest";
import { entryKey, planSchedule, type ScheduledEntry } from "./schedule-plan";

function entry(cron: string, overrides: Partial<ScheduledEntry> = {}): ScheduledEntry {
  return { repositoryId: 1, file: ".gust.yml", index: 0, cron, timezone: "UTC", branch: "main", ...overrides };
}

const at = (iso: string) => new Date(iso);
const iso = (date: Date | undefined) => date?.toISOString();

describe("planSchedule", () => {
  it("starts a new entry from now: nothing for the past, the next tick ahead", () => {
    const fresh = entry("*/5 * * * *");
    const plan = planSchedule([{ entry: fresh }], at("2025-01-01T10:02:30Z"));
    expect(plan).toEqual({ due: [], start: [fresh], invalid: [], nextAt: at("2025-01-01T10:05:00Z") });
  });

  it("is due exactly at the tick, not a millisecond before", () => {
    const e = entry("*/5 * * * *");
    const before = planSchedule([{ entry: e, lastTickAt: at("2025-01-01T10:00:00Z") }], at("2025-01-01T10:04:59.999Z"));
    expect(before.due).toEqual([]);
    expect(iso(before.nextAt)).toBe("2025-01-01T10:05:00.000Z");
    const onTime = planSchedule([{ entry: e, lastTickAt: at("2025-01-01T10:00:00Z") }], at("2025-01-01T10:05:00Z"));
    expect(onTime.due).toEqual([{ entry: e, tickAt: at("2025-01-01T10:05:00Z") }]);
    expect(iso(onTime.nextAt)).toBe("2025-01-01T10:10:00.000Z");
  });

  it("runs ticks missed during downtime once: the latest occurrence", () => {
    const e = entry("*/5 * * * *");
    const plan = planSchedule([{ entry: e, lastTickAt: at("2025-01-01T10:00:00Z") }], at("2025-01-01T13:17:00Z"));
    expect(plan.due).toEqual([{ entry: e, tickAt: at("2025-01-01T13:15:00Z") }]);
    expect(iso(plan.nextAt)).toBe("2025-01-01T13:20:00.000Z");
    // Once recorded, the same stretch of time has nothing more to run.
    expect(planSchedule([{ entry: e, lastTickAt: at("2025-01-01T13:15:00Z") }], at("2025-01-01T13:17:00Z")).due).toEqual([]);
  });

  it("runs a weekly tick missed for a month once", () => {
    const e = entry("0 6 * * 1");
    const plan = planSchedule([{ entry: e, lastTickAt: at("2025-01-06T06:00:00Z") }], at("2025-02-05T12:00:00Z"));
    expect(plan.due).toEqual([{ entry: e, tickAt: at("2025-02-03T06:00:00Z") }]);
    expect(iso(plan.nextAt)).toBe("2025-02-10T06:00:00.000Z");
  });

  it("plans each entry apart and wakes for the earliest next tick", () => {
    const hourly = entry("0 * * * *", { file: ".gust/hourly.yml" });
    const minutely = entry("* * * * *", { file: ".gust/minutely.yml" });
    const daily = entry("0 0 * * *", { repositoryId: 2 });
    const plan = planSchedule(
      [
        { entry: hourly, lastTickAt: at("2025-01-01T09:00:00Z") },
        { entry: minutely, lastTickAt: at("2025-01-01T10:29:00Z") },
        { entry: daily, lastTickAt: at("2025-01-01T00:00:00Z") },
      ],
      at("2025-01-01T10:30:20Z"),
    );
    expect(plan.due).toEqual([
      { entry: hourly, tickAt: at("2025-01-01T10:00:00Z") },
      { entry: minutely, tickAt: at("2025-01-01T10:30:00Z") },
    ]);
    expect(iso(plan.nextAt)).toBe("2025-01-01T10:31:00.000Z");
  });

  it("does not run a tick another replica with a faster clock already recorded", () => {
    const e = entry("*/5 * * * *");
    expect(planSchedule([{ entry: e, lastTickAt: at("2025-01-01T10:05:00Z") }], at("2025-01-01T10:04:59.900Z")).due).toEqual([]);
  });

  it("reads the cron in the entry's time zone, following daylight saving time", () => {
    const newYork = entry("0 9 * * *", { timezone: "America/New_York" });
    expect(iso(planSchedule([{ entry: newYork }], at("2025-07-01T12:00:00Z")).nextAt)).toBe("2025-07-01T13:00:00.000Z");
    expect(iso(planSchedule([{ entry: newYork }], at("2025-01-15T12:00:00Z")).nextAt)).toBe("2025-01-15T14:00:00.000Z");
    const kolkata = entry("0 0 * * *", { timezone: "Asia/Kolkata" });
    expect(iso(planSchedule([{ entry: kolkata }], at("2025-01-01T12:00:00Z")).nextAt)).toBe("2025-01-01T18:30:00.000Z");
  });

  it("runs a fixed time that the spring-forward gap skips at the first time after it", () => {
    // Europe/Berlin, 2025-03-30: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day.
    const e = entry("30 2 * * *", { timezone: "Europe/Berlin" });
    const lastTickAt = at("2025-03-29T01:30:00Z");
    expect(iso(planSchedule([{ entry: e, lastTickAt }], at("2025-03-29T12:00:00Z")).nextAt)).toBe("2025-03-30T01:00:00.000Z");
    expect(planSchedule([{ entry: e, lastTickAt }], at("2025-03-30T01:00:00Z")).due).toEqual([{ entry: e, tickAt: at("2025-03-30T01:00:00Z") }]);
    // The day after, 02:30 CEST again.
    expect(iso(planSchedule([{ entry: e, lastTickAt: at("2025-03-30T01:00:00Z") }], at("2025-03-30T01:00:00Z")).nextAt)).toBe("2025-03-31T00:30:00.000Z");
  });

  it("runs a fixed time that the fall-back hour repeats once, an interval on both passes", () => {
    // Europe/Berlin, 2025-10-26: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice.
    const fixed = entry("30 2 * * *", { timezone: "Europe/Berlin" });
    const first = planSchedule([{ entry: fixed, lastTickAt: at("2025-10-25T00:30:00Z") }], at("2025-10-26T00:30:00Z"));
    expect(first.due).toEqual([{ entry: fixed, tickAt: at("2025-10-26T00:30:00Z") }]);
    expect(iso(first.nextAt)).toBe("2025-10-27T01:30:00.000Z");
    expect(planSchedule([{ entry: fixed, lastTickAt: at("2025-10-26T00:30:00Z") }], at("2025-10-26T01:30:00Z")).due).toEqual([]);

    const halfHourly = entry("*/30 * * * *", { timezone: "Europe/Berlin" });
    expect(planSchedule([{ entry: halfHourly, lastTickAt: at("2025-10-26T01:00:00Z") }], at("2025-10-26T01:30:00Z")).due).toEqual([
      { entry: halfHourly, tickAt: at("2025-10-26T01:30:00Z") },
    ]);
  });

  it("takes a seconds field first, as the pipeline schema does", () => {
    const e = entry("*/10 * * * * *");
    const plan = planSchedule([{ entry: e, lastTickAt: at("2025-01-01T00:00:00Z") }], at("2025-01-01T00:00:25Z"));
    expect(plan.due).toEqual([{ entry: e, tickAt: at("2025-01-01T00:00:20Z") }]);
    expect(iso(plan.nextAt)).toBe("2025-01-01T00:00:30.000Z");
  });

  it("sets aside an entry whose cron cannot be read, planning the others", () => {
    const bad = entry("61 * * * *", { index: 1 });
    const good = entry("0 * * * *");
    const plan = planSchedule([{ entry: bad }, { entry: good, lastTickAt: at("2025-01-01T09:00:00Z") }], at("2025-01-01T10:00:00Z"));
    expect(plan.invalid).toEqual([{ entry: bad, message: expect.stringContaining("minute") }]);
    expect(plan.due).toEqual([{ entry: good, tickAt: at("2025-01-01T10:00:00Z") }]);
  });

  it("has no next tick for a cron that never fires again, and ignores no entries", () => {
    expect(planSchedule([{ entry: entry("0 0 0 1 1 * 2020"), lastTickAt: at("2020-01-01T00:00:00Z") }], at("2025-01-01T00:00:00Z"))).toEqual({ due: [], start: [], invalid: [] });
    expect(planSchedule([], at("2025-01-01T00:00:00Z"))).toEqual({ due: [], start: [], invalid: [] });
  });

  it("names an entry by its file and index", () => {
    expect(entryKey(entry("* * * * *", { file: ".gust/nightly.yml", index: 2 }))).toBe(".gust/nightly.yml#2");
  });
});
