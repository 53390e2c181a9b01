// Which schedule ticks are due, and when the next one is. Pure: the cron entries, the last tick
// recorded for each, and the time in; decisions out. A tick missed while no server ran runs once
// (the latest occurrence), not once per missed occurrence; an entry seen for the first time
// starts counting from now and does not fire for the past. Time zones and daylight saving are
// croner's: a fixed time that does not exist that day runs at the first time after the gap, a
// time that occurs twice runs once.
import { Cron } from "croner";
import { scheduleEntryKey } from "../app/internal-events";

export interface ScheduledEntry {
  repositoryId: number;
  /** The pipeline file the entry is in, and its index in `on.schedule`. */
  file: string;
  index: number;
  cron: string;
  /** IANA zone the cron is read in. */
  timezone: string;
  /** The branch a tick runs on. */
  branch: string;
}

export interface EntryState {
  entry: ScheduledEntry;
  /** The last tick recorded for the entry; absent for an entry never seen before. */
  lastTickAt?: Date;
}

export interface SchedulePlan {
  /** Ticks to run now, each entry at most once. */
  due: Array<{ entry: ScheduledEntry; tickAt: Date }>;
  /** Entries seen for the first time: record `now` as their last tick, without running them. */
  start: ScheduledEntry[];
  /** Entries whose cron cannot be read (the parser checks crons, so only a stale entry could). */
  invalid: Array<{ entry: ScheduledEntry; message: string }>;
  /** The earliest tick after `now` of any entry; absent when none will ever tick again. */
  nextAt?: Date;
}

/** `.gust/nightly.yml#0` of a repository: how ticks are recorded and deliveries named. */
export function entryKey(entry: Pick<ScheduledEntry, "file" | "index">): string {
  return scheduleEntryKey(entry.file, entry.index);
}

export function planSchedule(states: readonly EntryState[], now: Date): SchedulePlan {
  const plan: SchedulePlan = { due: [], start: [], invalid: [] };
  for (const { entry, lastTickAt } of states) {
    let cron: Cron;
    try {
      cron = cronOf(entry);
    } catch (error) {
      plan.invalid.push({ entry, message: (error as Error).message });
      continue;
    }
    if (lastTickAt === undefined) {
      plan.start.push(entry);
    } else {
      // previousRuns looks strictly before its reference: 1 ms on includes a tick at `now` itself.
      const latest = cron.previousRuns(1, new Date(now.getTime() + 1))[0];
      if (latest && latest.getTime() > lastTickAt.getTime()) plan.due.push({ entry, tickAt: latest });
    }
    const next = cron.nextRun(now);
    if (next && (!plan.nextAt || next < plan.nextAt)) plan.nextAt = next;
  }
  return plan;
}

/** Parsed crons, by pattern and zone: the planner runs on every tick and every refresh. */
const crons = new Map<string, Cron>();
const MAX_CACHED = 10_000;

function cronOf(entry: ScheduledEntry): Cron {
  const key = `${entry.timezone}\u0000${entry.cron}`;
  let cron = crons.get(key);
  if (!cron) {
    // The same options the pipeline schema validates with (src/pipeline/schema/triggers.ts).
    cron = new Cron(entry.cron, { paused: true, timezone: entry.timezone });
    if (crons.size >= MAX_CACHED) crons.clear();
    crons.set(key, cron);
  }
  return cron;
}
