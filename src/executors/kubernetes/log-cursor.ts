// Where a container's log was read up to, so a follow that reconnects (a dropped connection, or a
// Gust restart that adopts the pod) gives no line twice and loses none. Kubernetes prefixes each
// line with its timestamp, but `sinceTime` is honoured to the second only; so a reader asks from the
// cursor's second and skips what it already has: every line before the cursor's millisecond, and
// the first `countAtLast` lines of that millisecond (lines keep their order within a log).
export interface LogCursor {
  /** Milliseconds since the epoch of the last line taken, or 0 before the first. */
  lastAt: number;
  /** How many lines taken so far carry exactly `lastAt`. */
  countAtLast: number;
}

export const START_CURSOR: LogCursor = { lastAt: 0, countAtLast: 0 };

/** The `sinceTime` to ask for: the cursor's whole second (RFC 3339), or none from the start. */
export function sinceTimeFor(cursor: LogCursor): string | undefined {
  if (cursor.lastAt === 0) return undefined;
  return new Date(Math.floor(cursor.lastAt / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Whether to take a line read after (re)connecting from `base`: `ordinalAtBase` is this line's
 * position (1, 2, …) among the lines of this read that carry exactly `base.lastAt`.
 */
export function admitLine(base: LogCursor, at: number, ordinalAtBase: number): boolean {
  if (at < base.lastAt) return false;
  return at > base.lastAt || ordinalAtBase > base.countAtLast;
}

/** The cursor after taking a line of time `at`. */
export function advanceCursor(cursor: LogCursor, at: number): LogCursor {
  return at === cursor.lastAt ? { lastAt: at, countAtLast: cursor.countAtLast + 1 } : { lastAt: at, countAtLast: 1 };
}

/**
 * Splits a Kubernetes log line "2026-12-04T18:00:00.123456789Z text" into its time (ms) and text.
 * A line without a readable timestamp keeps the time of the line before it.
 */
export function parseTimestampedLine(line: string, previousAt: number): { at: number; text: string } {
  const space = line.indexOf(" ");
  const stamp = space > 0 ? line.slice(0, space) : line;
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(stamp);
  if (!match) return { at: previousAt, text: line };
  const fraction = (match[2] ?? ".0").slice(1, 4).padEnd(3, "0");
  const at = Date.parse(`${match[1]}.${fraction}${match[3]}`);
  if (!Number.isFinite(at)) return { at: previousAt, text: line };
  return { at, text: space > 0 ? line.slice(space + 1) : "" };
}
