import { describe, expect, it } from "vitest";
import { admitLine, advanceCursor, parseTimestampedLine, sinceTimeFor, START_CURSOR, type LogCursor } from "../../../src/executors/kubernetes/log-cursor";

/** Reads `lines` (ms, text) from `base` the way the follower does; returns what it takes and the cursor after. */
function read(base: LogCursor, lines: Array<[number, string]>): { taken: string[]; cursor: LogCursor } {
  let cursor = base;
  let ordinal = 0;
  const taken: string[] = [];
  for (const [at, text] of lines) {
    if (at === base.lastAt) ordinal++;
    if (!admitLine(base, at, ordinal)) continue;
    cursor = advanceCursor(cursor, at);
    taken.push(text);
  }
  return { taken, cursor };
}

describe("log cursor", () => {
  const log: Array<[number, string]> = [
    [1_000, "a"],
    [1_500, "b"],
    [1_500, "c"],
    [1_500, "d"],
    [2_200, "e"],
  ];

  it("takes everything from the start", () => {
    expect(read(START_CURSOR, log)).toEqual({ taken: ["a", "b", "c", "d", "e"], cursor: { lastAt: 2_200, countAtLast: 1 } });
  });

  it("after a reconnect in the middle of lines sharing a millisecond, gives none twice and loses none", () => {
    for (let cut = 0; cut <= log.length; cut++) {
      const first = read(START_CURSOR, log.slice(0, cut));
      // The server resends from the cursor's whole second: here, everything.
      const second = read(first.cursor, log);
      expect([...first.taken, ...second.taken]).toEqual(["a", "b", "c", "d", "e"]);
    }
  });

  it("asks from the cursor's whole second, and from the start before the first line", () => {
    expect(sinceTimeFor(START_CURSOR)).toBeUndefined();
    expect(sinceTimeFor({ lastAt: Date.parse("2026-12-04T18:00:01.750Z"), countAtLast: 1 })).toBe("2026-12-04T18:00:01Z");
  });

  it("parses Kubernetes timestamps to the millisecond and keeps the text as it is", () => {
    expect(parseTimestampedLine("2026-12-04T18:00:01.123456789Z  indented text", 0)).toEqual({ at: Date.parse("2026-12-04T18:00:01.123Z"), text: " indented text" });
    expect(parseTimestampedLine("2026-12-04T18:00:01Z ", 0)).toEqual({ at: Date.parse("2026-12-04T18:00:01Z"), text: "" });
    expect(parseTimestampedLine("no stamp here", 42)).toEqual({ at: 42, text: "no stamp here" });
  });
});
